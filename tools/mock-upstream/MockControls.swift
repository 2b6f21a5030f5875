import Hummingbird
import HTTPTypes
import PlumbCore

/// How a test asks the mock to behave, per request, through `X-Mock-*` headers (which Plumb
/// forwards like any other header). Defaults come from the command line.
///
/// | header | effect |
/// |---|---|
/// | `X-Mock-Latency-Ms` | wait before the response head |
/// | `X-Mock-Chunk-Delay-Ms` | wait between streamed chunks |
/// | `X-Mock-Output-Words` | words in the reply (default 12); one stream chunk each |
/// | `X-Mock-Cached-Tokens`, `X-Mock-Cache-Write-Tokens`, `X-Mock-Reasoning-Tokens` | usage details |
/// | `X-Mock-Seed` | the number in the response's ids (default: a counter) |
/// | `X-Mock-Model` | the model the response names (default: the one requested) |
/// | `X-Mock-Bytes` | pad the reply to about this many bytes (large-response tests) |
/// | `X-Mock-Fault` | `500`, `429` (with Retry-After), `hang`, `reset` (mid-stream), `malformed` (bad JSON), `drip` (a byte at a time), `broken-sse` (stream cut mid-event, no terminator) |
struct MockControls {
    var latencyMs = 0
    var chunkDelayMs = 0
    var outputWords = 12
    var cachedTokens = 0
    var cacheWriteTokens: Int?
    var reasoningTokens = 0
    var model: String?
    var padBytes = 0
    var fault: String?

    init(headers: HTTPFields, defaults: MockControls) {
        self = defaults
        func int(_ name: String) -> Int? { headers[HTTPField.Name(name)!].flatMap { Int($0) } }
        latencyMs = int("X-Mock-Latency-Ms") ?? latencyMs
        chunkDelayMs = int("X-Mock-Chunk-Delay-Ms") ?? chunkDelayMs
        outputWords = max(1, int("X-Mock-Output-Words") ?? outputWords)
        cachedTokens = int("X-Mock-Cached-Tokens") ?? cachedTokens
        cacheWriteTokens = int("X-Mock-Cache-Write-Tokens") ?? cacheWriteTokens
        reasoningTokens = int("X-Mock-Reasoning-Tokens") ?? reasoningTokens
        padBytes = int("X-Mock-Bytes") ?? padBytes
        model = headers[HTTPField.Name("X-Mock-Model")!] ?? model
        fault = headers[HTTPField.Name("X-Mock-Fault")!] ?? fault
    }

    init() {}
}

/// Deterministic text and token counts: a token is a whitespace-separated word, plus 4 per
/// message for its framing, so tests can predict usage exactly.
enum MockText {
    static let words = ["The", "mock", "upstream", "answers", "every", "call", "with", "plain", "words", "so",
                        "tests", "can", "count", "them", "exactly", "and", "compare", "bytes."]

    static func reply(words n: Int, padBytes: Int = 0) -> [String] {
        var out = (0..<n).map { (i: Int) -> String in (i == 0 ? "" : " ") + words[i % words.count] }
        if padBytes > 0 {
            // Large replies: ~64 KiB pieces of filler appended to the last words.
            let piece = String(repeating: "x", count: 65_536)
            var left = padBytes
            while left > 0 { out.append(" " + String(piece.prefix(min(left, piece.count)))); left -= piece.count }
        }
        return out
    }

    /// Words: runs between spaces, newlines and tabs (as Characters, so "\r\n" is no separator).
    static func count(_ text: String) -> Int {
        var text = text
        if let n = text.withUTF8({ asciiCount($0) }) { return n }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).count
    }

    /// The same count over bytes, for ASCII text without a carriage return (where bytes and
    /// Characters split alike); nil otherwise. Splitting Characters was a third of the mock's CPU.
    static func asciiCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var n = 0, inWord = false
        for c in bytes {
            if c >= 0x80 || c == 0x0D { return nil }
            let separator = c == 0x20 || c == 0x0A || c == 0x09
            if !separator && !inWord { n += 1 }
            inWord = !separator
        }
        return n
    }

    /// All text inside a JSON value (message contents, content blocks, parts, inputs).
    static func tokens(in value: JSONValue?) -> Int {
        switch value {
        case .string(let s)?: return count(s)
        case .array(let a)?: return a.reduce(0) { $0 + tokens(in: $1) }
        case .object(let o)?:
            var n = 0
            for (k, v) in o where k == "text" || k == "content" || k == "input" || k == "parts" || k == "messages"
                || k == "system" || k == "contents" || k == "instructions" || k == "prompt" {
                n += tokens(in: v)
            }
            if o["role"] != nil { n += 4 }
            return n
        default: return 0
        }
    }
}
