/// A strict RFC 8259 JSON parser over UTF-8 bytes, with positional errors.
///
/// ```swift
/// do { _ = try JSONParser.parse("{\"a\": tru}") }
/// catch let e as JSONParseError { print(e) }   // "invalid literal at offset 6"
/// ```
public struct JSONParseError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public let offset: Int
    public var description: String { "\(message) at offset \(offset)" }
}

public struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var depth = 0
    private static let maxDepth = 512

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    public static func parse(_ text: String) throws -> JSONValue {
        var copy = text
        return try copy.withUTF8 { buf in try parse(bytes: buf) }
    }

    public static func parse(bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var p = JSONParser(bytes)
        p.skipWhitespace()
        let v = try p.value()
        p.skipWhitespace()
        if p.i != bytes.count { throw p.fail("unexpected trailing characters") }
        return v
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buf in try parse(bytes: buf) }
    }

    /// Parses one JSON object, putting each member's value in the slot `slot(key bytes)` names,
    /// without building a dictionary. A key with no slot is returned as `unknownKey` (the first
    /// one), and a later duplicate wins, as with `parse`.
    public static func parseObject(bytes: UnsafeBufferPointer<UInt8>, slotCount: Int,
                                   slot: (UnsafeBufferPointer<UInt8>) -> Int?) throws -> (slots: [JSONValue?], unknownKey: String?) {
        var p = JSONParser(bytes)
        var slots = [JSONValue?](repeating: nil, count: slotCount)
        var unknown: String?
        p.skipWhitespace()
        guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "{") else {
            if p.i >= bytes.count { throw p.fail("unexpected end of input") }
            let v = try p.value()
            throw JSONParseError(message: "expected a JSON object, got \(v.kindName)", offset: 0)
        }
        p.i += 1
        p.skipWhitespace()
        if p.i < bytes.count, bytes[p.i] == UInt8(ascii: "}") { p.i += 1 } else {
            while true {
                p.skipWhitespace()
                guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "\"") else { throw p.fail("expected a string key") }
                // Keys without escapes are matched on their bytes; others go through `string()`.
                var k = p.i + 1
                while k < bytes.count, bytes[k] != UInt8(ascii: "\""), bytes[k] != UInt8(ascii: "\\"), bytes[k] >= 0x20 { k += 1 }
                var index: Int?
                var keyName: String?
                if k < bytes.count, bytes[k] == UInt8(ascii: "\"") {
                    let raw = UnsafeBufferPointer(rebasing: bytes[(p.i + 1)..<k])
                    index = slot(raw)
                    if index == nil { keyName = try p.validated(raw, at: p.i + 1) }
                    p.i = k + 1
                } else {
                    let key = try p.string()
                    var copy = key
                    index = copy.withUTF8 { slot($0) }
                    if index == nil { keyName = key }
                }
                p.skipWhitespace()
                guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: ":") else { throw p.fail("expected ':' after key") }
                p.i += 1
                p.skipWhitespace()
                let v = try p.value()
                if let index { slots[index] = v } else if unknown == nil { unknown = keyName }
                p.skipWhitespace()
                guard p.i < bytes.count else { throw p.fail("unterminated object") }
                if bytes[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
                if bytes[p.i] == UInt8(ascii: "}") { p.i += 1; break }
                throw p.fail("expected ',' or '}' in object")
            }
        }
        p.skipWhitespace()
        if p.i != bytes.count { throw p.fail("unexpected trailing characters") }
        return (slots, unknown)
    }

    private func fail(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: i) }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    private mutating func value() throws -> JSONValue {
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character '\(Unicode.Scalar(bytes[i]))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("invalid literal") }
        let w = word.utf8Start
        for k in 0..<n where bytes[i + k] != w[k] { throw fail("invalid literal") }
        i += n
    }

    private mutating func enter() throws {
        depth += 1
        if depth > Self.maxDepth { throw fail("nesting deeper than \(Self.maxDepth)") }
    }

    private mutating func object() throws -> JSONValue {
        try enter(); defer { depth -= 1 }
        i += 1
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object([:]) }
        // Room for a few members at once: growing from one member took three or four
        // allocations for the small objects usage is made of.
        var dict = [String: JSONValue](minimumCapacity: 4)
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key") }
            i += 1
            skipWhitespace()
            dict[key] = try value()
            skipWhitespace()
            guard i < bytes.count else { throw fail("unterminated object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(dict) }
            throw fail("expected ',' or '}' in object")
        }
    }

    private mutating func array() throws -> JSONValue {
        try enter(); defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value())
            skipWhitespace()
            guard i < bytes.count else { throw fail("unterminated array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("expected ',' or ']' in array")
        }
    }

    private mutating func number() throws -> JSONValue {
        let start = i
        var isInteger = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw fail("invalid number") }
        if bytes[i] == UInt8(ascii: "0") { i += 1 } else { while i < bytes.count, isDigit(bytes[i]) { i += 1 } }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false; i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("invalid number") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false; i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("invalid number") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if isInteger && i - start <= 18 {
            // Fits Int64 for sure: no String round trip.
            var v: Int64 = 0
            let negative = bytes[start] == UInt8(ascii: "-")
            for k in (negative ? start + 1 : start)..<i { v = v * 10 + Int64(bytes[k] - 0x30) }
            return .int(negative ? -v : v)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if isInteger, let v = Int64(text) { return .int(v) }
        guard let d = Double(text) else { throw JSONParseError(message: "invalid number", offset: start) }
        return .double(d)
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private mutating func string() throws -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s = UnsafeBufferPointer(rebasing: bytes[start..<i])
                i += 1
                if s.count > 15, let known = Self.knownKey(s) { return known }
                return try validated(s, at: start)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character in string") }
            i += 1
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return try out.withUnsafeBufferPointer { buf in try validated(buf, at: start) }
            }
            if b < 0x20 { throw fail("control character in string") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]; i += 1
            if let simple = StringEscapes.simple(e) { out.append(simple); continue }
            switch e {
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
                    else { throw fail("unpaired surrogate in \\u escape") }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("unpaired surrogate in \\u escape")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default: throw fail("invalid escape '\\\(Unicode.Scalar(e))'")
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = StringEscapes.hexDigit(bytes[i]) else { throw fail("invalid hex digit in \\u escape") }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// The usage members' longer names, as the providers spell them (OpenAI, Anthropic,
    /// Gemini): a string of more than 15 bytes is a heap allocation, and a usage object has
    /// several of them on every call. These come back as the literals instead.
    static let knownKeys: [(bytes: [UInt8], name: String)] = [
        "completion_tokens", "completion_tokens_details", "prompt_tokens_details", "reasoning_tokens",
        "accepted_prediction_tokens", "rejected_prediction_tokens", "input_tokens_details", "output_tokens_details",
        "cache_creation_input_tokens", "cache_read_input_tokens", "ephemeral_5m_input_tokens",
        "ephemeral_1h_input_tokens", "promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount",
        "thoughtsTokenCount", "promptTokensDetails", "candidatesTokensDetails", "toolUsePromptTokenCount",
        "cacheTokensDetails", "system_fingerprint",
    ].map { (Array($0.utf8), $0) }

    /// A scan, not a hash: hashing the bytes would cost an array, the allocation saved.
    static func knownKey(_ s: UnsafeBufferPointer<UInt8>) -> String? {
        for key in knownKeys where key.bytes.count == s.count && key.bytes.elementsEqual(s) { return key.name }
        return nil
    }

    private func validated(_ buf: UnsafeBufferPointer<UInt8>, at start: Int) throws -> String {
        guard let s = UTF8Validation.string(buf) else {
            throw JSONParseError(message: "invalid UTF-8 in string", offset: start)
        }
        return s
    }
}
