import XCTest
@testable import PlumbCore

final class SpanJSONTests: XCTestCase {
    func testFullSpanRoundTripsThroughJSON() throws {
        let span = Span(
            spanID: SpanID.make(millis: 1_795_255_200_000, random: 1, 2), traceID: String(repeating: "ab", count: 16),
            parentSpanID: "00f067aa0ba902b7", sessionID: "sess-ü", userID: "", tsStart: 1_795_255_200_123_456,
            tsEnd: 1_795_255_201_000_000, latencyMs: 876.544, ttftMs: 120.25, upstreamMs: 870, provider: "openai",
            modelRequested: "gpt-4o", model: "gpt-4o-2024-08-06", operation: "chat", endpoint: "/v1/chat/completions",
            method: "POST", stream: true, status: 200, errorType: nil, finishReason: "stop", inputTokens: 12,
            outputTokens: Int64.max, cacheReadTokens: 0, cacheWriteTokens: nil, reasoningTokens: nil, costUSD: 0.000123,
            requestBytes: 100, responseBytes: 2000, apiKeyHash: "0123456789abcdef", properties: ["team": "a", "é": "😀"],
            requestBody: "{\"messages\":[]}", responseBody: "line1\nline2")
        let back = try Span(json: JSONParser.parse(span.jsonLine()))
        XCTAssertEqual(back, span)
        let withNulls = try Span(json: JSONParser.parse(span.jsonLine(includeNulls: true)))
        XCTAssertEqual(withNulls, span)
    }

    func testErrorsNameTheColumn() {
        let cases: [(String, String)] = [
            (#"{"ts_start":"2026-01-01T00:00:00Z","provider":"x","status":200}"#, "column 'span_id': is required"),
            (#"{"span_id":"x","ts_start":"2026-01-01T00:00:00Z","provider":"x","status":200}"#, "column 'span_id': expected 32 hex digits, got 'x'"),
            (#"{"span_id":"0123456789abcdef0123456789abcdef","ts_start":"nope","provider":"x","status":200}"#, "column 'ts_start': invalid timestamp 'nope'"),
            (#"{"span_id":"0123456789abcdef0123456789abcdef","ts_start":1,"provider":"x","status":2.5}"#, "column 'status': expected an integer, got 2.5"),
            (#"{"span_id":"0123456789abcdef0123456789abcdef","ts_start":1,"provider":"x","status":200,"modle":"x"}"#, "column 'modle': unknown column"),
            (#"{"span_id":"0123456789abcdef0123456789abcdef","ts_start":1,"provider":"x","status":200,"properties":{"a":1}}"#, "column 'properties': property 'a' must be a string"),
            (#"{"span_id":"0123456789abcdef0123456789abcdef","ts_start":5,"ts_end":4,"provider":"x","status":200}"#, "column 'ts_end': is before ts_start"),
            (#"[1]"#, "expected a JSON object, got array"),
        ]
        for (line, prefix) in cases {
            XCTAssertThrowsError(try Span(json: JSONParser.parse(line)), line) { error in
                XCTAssertTrue("\(error)".hasPrefix(prefix), "\(error) does not start with \(prefix)")
            }
        }
    }

    func testFastByteDecoderAgreesWithTheGeneralPath() throws {
        func both(_ line: String) -> (Result<Span, Error>, Result<Span, Error>) {
            var copy = line
            let fast = copy.withUTF8 { b in Result { try Span(jsonBytes: b) } }
            let slow = Result { try Span(json: JSONParser.parse(line)) }
            return (fast, slow)
        }
        let id = "0123456789abcdef0123456789abcdef"
        let lines = [
            #"{"span_id":"\#(id)","ts_start":"2026-01-01T00:00:00Z","provider":"x","status":200,"properties":{"a":"b"},"cost_usd":1.5e-7,"input_tokens":-12}"#,
            #" { "sp\u0061n_id" : "\#(id)" , "ts_start" : 5 , "provider" : "é\n" , "status" : 200 } "#,   // escaped key
            #"{"span_id":"\#(id)","ts_start":5,"provider":"x","status":200,"status":201}"#,                  // later duplicate wins
            #"{"span_id":"\#(id)","ts_start":5,"provider":"x","status":200,"colour":1}"#,
            #"{"span_id":"\#(id)","ts_start":5,"provider":"x","status":12345678901234567890}"#,
            #"["not", "an", "object"]"#,
            #"{"span_id":"\#(id)","ts_start":5,"provider":"x","status":200"#,
        ]
        for line in lines {
            let (fast, slow) = both(line)
            switch (fast, slow) {
            case (.success(let a), .success(let b)): XCTAssertEqual(a, b, line)
            case (.failure(let a), .failure(let b)): XCTAssertEqual("\(a)", "\(b)", line)
            default: XCTFail("paths disagree on \(line): \(fast) vs \(slow)")
            }
        }
        XCTAssertEqual(try both(lines[2]).0.get().status, 201)
    }

    func testSpanIDsAreTimeOrdered() {
        let a = SpanID.generate(atMicros: 1_000_000_000)
        let b = SpanID.generate(atMicros: 1_000_001_000)
        XCTAssertLessThan(a, b)
        XCTAssertEqual(SpanID.timestampMillis(of: a), 1_000_000)
        XCTAssertEqual(Array(a.utf8)[12], UInt8(ascii: "7"))
    }

    func testGeneratedSpanIDsAreUniqueUUIDv7() {
        var ids = SpanID.Generator(), other = SpanID.Generator()
        var seen = Set<String>()
        for i in 0..<100_000 {
            // Many ids in one millisecond, from two generators: all distinct.
            let id = (i.isMultiple(of: 2) ? ids.next(atMicros: 1_700_000_000_000_000) : other.next(atMicros: 1_700_000_000_000_000))
            XCTAssertTrue(seen.insert(id).inserted)
            if i < 100 {
                let bytes = Array(id.utf8)
                XCTAssertEqual(bytes.count, 32)
                XCTAssertTrue(bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
                XCTAssertEqual(bytes[12], UInt8(ascii: "7"))                        // version 7
                XCTAssertTrue("89ab".utf8.contains(bytes[16]))                      // variant 0b10
                XCTAssertEqual(SpanID.timestampMillis(of: id), 1_700_000_000_000)
            }
        }
        XCTAssertEqual(SpanID.make(millis: 0x0123_4567_89AB, random: 0xFFF, 0), "0123456789ab7fff8000000000000000")
    }
}
