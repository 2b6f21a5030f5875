import XCTest
@testable import PlumbCore

/// The per-chunk scanners of a stream (SSEScanner's pointer loop, JSONKeyProbe) against slow,
/// obvious references on random input.
final class StreamScanTests: XCTestCase {
    /// Random streams of events with every line ending, comments, `event:` lines, blank data and
    /// lone CRs at chunk edges, fed in random pieces: the events are those of the whole stream fed
    /// at once, and their raw bytes are the stream, exactly.
    func testSSEScannerGivesTheSameEventsForAnySplit() {
        var rng = SystemRandomNumberGenerator()
        let endings = ["\n", "\r", "\r\n"]
        for round in 0..<500 {
            var text = ""
            for _ in 0..<Int.random(in: 0...8, using: &rng) {
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let line = ["data: {\"a\":1}", "data:", "event: x", ": note", "data: tok \(round)", "id: 7", "data"].randomElement(using: &rng)!
                    text += line + endings.randomElement(using: &rng)!
                }
                text += endings.randomElement(using: &rng)!
            }
            if Bool.random(using: &rng) { text += "data: unterminated" }
            let bytes = Array(text.utf8)
            var whole = SSEScanner()
            var expected = whole.feed(bytes)
            if let last = whole.finish() { expected.append(last) }
            var pieces = SSEScanner()
            var got: [SSEEvent] = []
            var i = 0
            while i < bytes.count {
                let n = Int.random(in: 1...max(1, bytes.count / 3 + 1), using: &rng)
                got += pieces.feed(bytes[i..<min(bytes.count, i + n)])
                i += n
            }
            if let last = pieces.finish() { got.append(last) }
            XCTAssertEqual(got, expected, "round \(round): \(text.debugDescription)")
            XCTAssertEqual(got.flatMap(\.raw), bytes, "round \(round)")
        }
    }

    /// The probe against a plain search: a quoted name, white space, a colon and, where asked,
    /// a value that does not start with `n`.
    func testKeyProbeAgreesWithAPlainSearch() {
        func reference(_ text: [UInt8], _ key: String, notNull: Bool) -> Bool {
            let k = Array(key.utf8)
            guard text.count >= k.count else { return false }
            for i in 0...(text.count - k.count) where Array(text[i..<i + k.count]) == k {
                var j = i + k.count
                while j < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[j]) { j += 1 }
                guard j < text.count, text[j] == UInt8(ascii: ":") else { continue }
                if !notNull { return true }
                j += 1
                while j < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[j]) { j += 1 }
                if j >= text.count || text[j] != UInt8(ascii: "n") { return true }
            }
            return false
        }
        var rng = SystemRandomNumberGenerator()
        let parts = ["{", "}", "\"usage\"", "\"usage\"", ":", " ", "\n", "null", "{\"a\":1}", "\"type\"", "\\\"usage\\\"",
                     "\"finish_reason\"", "\"stop\"", ",", "\"usag", "e\"", "n", "1"]
        let probes = UsageParser.OpenAI.mayCarryProbes
        var matched = 0
        for _ in 0..<5_000 {
            let text = Array((0..<Int.random(in: 0...12, using: &rng)).map { _ in parts.randomElement(using: &rng)! }.joined().utf8)
            let want = reference(text, "\"finish_reason\"", notNull: true) || reference(text, "\"usage\"", notNull: true)
                || reference(text, "\"type\"", notNull: false)
            XCTAssertEqual(JSONKeyProbe.any(of: probes, in: text), want, String(decoding: text, as: UTF8.self))
            if want { matched += 1 }
        }
        XCTAssertGreaterThan(matched, 200, "the random texts exercise matches as well as misses")
        XCTAssertFalse(JSONKeyProbe.any(of: probes, in: Array(#"{"content":"say \"usage\": 5"}"#.utf8)), "an escaped name is string content")
        XCTAssertTrue(UsageParser.OpenAI.carriesUsage(Array(#"{"choices":[],"usage" : {"prompt_tokens":1}}"#.utf8)))
        XCTAssertFalse(UsageParser.OpenAI.carriesUsage(Array(#"{"choices":[],"usage":null}"#.utf8)))
    }

    /// Anthropic's many content_block_delta events skip the parse; the usage still comes out.
    func testAnthropicStreamSkipsTextEventsAndKeepsUsage() {
        var p = UsageParser.Anthropic()
        let stream = """
            event: message_start
            data: {"type":"message_start","message":{"id":"m","model":"claude-sonnet-4-5","stop_reason":null,"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\\"usage\\": 99"}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}


            """
        var s = SSEScanner()
        for e in s.feed(Array(stream.utf8)) { p.event(e) }
        XCTAssertEqual(p.usage.model, "claude-sonnet-4-5")
        XCTAssertEqual(p.usage.inputTokens, 15)
        XCTAssertEqual(p.usage.outputTokens, 42)
        XCTAssertEqual(p.usage.finishReason, "end_turn")
    }
}
