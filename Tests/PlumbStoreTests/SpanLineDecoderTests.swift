import Foundation
import XCTest
import PlumbCore
@testable import PlumbStore
import PlumbTestSupport

/// `plumb import`'s byte-level scanner: every line it takes decodes to the span the general path
/// (`Span(jsonBytes:)`) makes, bit for bit; every line that path refuses, it declines (so each
/// error keeps that path's words); and the lines an export holds, it takes.
final class SpanLineDecoderTests: XCTestCase {
    /// nil: the scanner declined the line. Fails the test when it took a line it must not have,
    /// or made a different span.
    @discardableResult
    private func scanned(_ line: String, maxBody: Int = 1 << 20, file: StaticString = #filePath, line at: UInt = #line) -> Span? {
        var copy = line
        return copy.withUTF8 { bytes -> Span? in
            var scanner = SpanLineDecoder(maxBodyBytes: maxBody)
            var records = SpanRecords()
            guard scanner.decode(bytes, into: &records) else {
                XCTAssertEqual(records.count, 0, "a declined line leaves nothing behind", file: file, line: at)
                return nil
            }
            var reader = ByteReader(records.encoded.bytes)
            let span = try? SpanRecord.decode(&reader)
            XCTAssertEqual(reader.pos, records.encoded.bytes.count, "one whole record", file: file, line: at)
            guard let general = try? Span(jsonBytes: bytes) else {
                XCTFail("took a line the general path refuses: \(line.prefix(200))", file: file, line: at)
                return span
            }
            let capped = SpanStore.cappingBodies(general, maxBodyBytes: maxBody)
            XCTAssertNotNil(span, file: file, line: at)
            if let span { XCTAssertTrue(sameSpan(span, capped.span), "\(span)\n vs \(capped.span)", file: file, line: at) }
            XCTAssertEqual(scanner.droppedBody, capped.dropped, file: file, line: at)
            XCTAssertEqual(scanner.tsStart, general.tsStart, file: file, line: at)
            return span
        }
    }

    func testTheLinesSpansAreWrittenAsDecodeAlike() {
        var gen = TestSpans(seed: 77)
        var taken = 0, total = 0
        for (k, span) in gen.spans(3000, bodies: true).enumerated() {
            // The extremes TestSpans mixes in (infinities, NaN) have no JSON form.
            guard [span.latencyMs, span.upstreamMs, span.ttftMs ?? 0, span.costUSD ?? 0].allSatisfy(\.isFinite) else { continue }
            total += 1
            if scanned(span.jsonLine(includeNulls: k % 2 == 0)) != nil { taken += 1 }
        }
        // TestSpans leans on what the scanner leaves to the general path (Int64.min and max, 1e-12),
        // so most of its lines are declined; enough are taken to compare.
        XCTAssertGreaterThan(taken, 100, "\(taken) of \(total) taken")
    }

    func testAnExportsLinesAreTaken() throws {
        let lines = [
            #"{"span_id":"86fc0ba9d281c1207afe0f5b589d4efc","user_id":"usr_ba22a9ad","ts_start":"2026-10-01T00:00:00.000000Z","ts_end":"2026-10-01T00:00:01.127730Z","latency_ms":1127.731,"provider":"anthropic","model_requested":"claude-3-5-haiku-latest","model":"claude-3-5-haiku-latest","operation":"chat","endpoint":"/v1/messages","method":"POST","stream":false,"status":200,"error_type":null,"input_tokens":2285,"output_tokens":55,"cost_usd":0.002048,"request_bytes":9140,"response_bytes":275,"api_key_hash":"6129272e6a96823b","properties":{}}"#,
            #" { "span_id" : "86FC0BA9D281C1207AFE0F5B589D4EFC" , "ts_start" : 1795255200000000 , "provider" : "openai" , "status" : 429 , "properties" : { "team" : "search" , "env" : "prod" } } "#,
            #"{"span_id":"86fc0ba9d281c1207afe0f5b589d4efc","ts_start":"2026-10-01 10:00:00+02:00","provider":"gemini","status":200,"stream":true,"session_id":"s\u00e9ssion \"1\"\n","user_id":"usér-😀","request_body":"{\"messages\":[{\"content\":\"\ud83d\ude00 \\ \/ \t\"}]}","response_body":"ok","ttft_ms":12,"cost_usd":-0.0,"properties":{"ключ":"значение"}}"#,
            #"{"span_id":"86fc0ba9d281c1207afe0f5b589d4efc","trace_id":null,"parent_span_id":"0011223344556677","ts_start":0,"ts_end":5,"provider":"","status":-1,"input_tokens":-42,"latency_ms":0.1,"upstream_ms":123456789.123456,"properties":null}"#,
        ]
        for line in lines { XCTAssertNotNil(scanned(line), line) }
        // Exponents within Clinger's fast path: the same doubles as strtod.
        for (text, value) in [("6.2e-7", 6.2e-7), ("1E3", 1e3), ("1e+2", 100), ("-2.5e-3", -2.5e-3), ("0.000125E2", 0.0125),
                              ("9007199254740992e-22", 9007199254740992e-22), ("12.5e22", 12.5e22), ("0e0", 0)] {
            let line = #"{"span_id":"86fc0ba9d281c1207afe0f5b589d4efc","ts_start":1,"provider":"p","status":200,"cost_usd":"# + text + "}"
            XCTAssertEqual(scanned(line)?.costUSD?.bitPattern, value.bitPattern, text)
        }
        let s = try XCTUnwrap(scanned(lines[2]))
        XCTAssertEqual(s.sessionID, "séssion \"1\"\n")
        XCTAssertEqual(s.requestBody, #"{"messages":[{"content":"😀 \ / "#  + "\t\"}]}")
        XCTAssertEqual(scanned(lines[1])?.spanID, "86fc0ba9d281c1207afe0f5b589d4efc", "ids are lowercased")
        XCTAssertEqual(scanned(lines[1])?.properties, ["team": "search", "env": "prod"])
    }

    /// Lines the general path refuses, or that the scanner leaves to it: each is declined.
    func testWhatItDoesNotTakeItDeclines() {
        let id = "86fc0ba9d281c1207afe0f5b589d4efc"
        let ok = #""span_id":"\#(id)","ts_start":1,"provider":"p","status":200"#
        let declined = [
            "", "   ", "[]", "{}", "null", "{\(ok)", "{\(ok)}x", "{\(ok),}",
            "{\(ok),\"model\":\"a\",\"model\":\"b\"}",                      // a duplicate key
            "{\(ok),\"nope\":1}",                                             // an unknown column
            "{\(ok),\"mod\\u0065l\":\"a\"}",                                  // an escaped key
            #"{"span_id":"\#(id)","ts_start":1,"provider":"p"}"#,            // status missing
            #"{"span_id":"\#(id)","ts_start":1,"provider":null,"status":200}"#,
            #"{"span_id":"\#(id)x","ts_start":1,"provider":"p","status":200}"#,
            #"{"span_id":"\#(id.dropLast())g","ts_start":1,"provider":"p","status":200}"#,
            "{\(ok),\"status\":200.0}".replacingOccurrences(of: "\"status\":200,", with: ""),   // 200.0: general path only
            "{\(ok),\"input_tokens\":01}", "{\(ok),\"input_tokens\":1.}", "{\(ok),\"input_tokens\":-}",
            "{\(ok),\"input_tokens\":1e3}", "{\(ok),\"cost_usd\":1e23}", "{\(ok),\"cost_usd\":1e-23}",
            "{\(ok),\"cost_usd\":9007199254740993e-5}", "{\(ok),\"cost_usd\":1e}", "{\(ok),\"cost_usd\":1e+}",
            "{\(ok),\"cost_usd\":1e00001}", "{\(ok),\"input_tokens\":1234567890123456789}",
            "{\(ok),\"input_tokens\":\"12\"}", "{\(ok),\"stream\":1}", "{\(ok),\"latency_ms\":\"1\"}",
            "{\(ok),\"ts_end\":0}",                                           // before ts_start
            "{\(ok),\"ts_end\":\"2026-13-01\"}", "{\(ok),\"ts_end\":1.5}",
            "{\(ok),\"properties\":{\"a\":1}}", "{\(ok),\"properties\":{\"a\":\"x\",\"a\":\"y\"}}",
            "{\(ok),\"properties\":[]}", "{\(ok),\"properties\":{\"a\":\"x\",}}", "{\(ok),\"model\":{}}",
            "{\(ok),\"model\":\"\\ud83d\"}", "{\(ok),\"model\":\"\\ude00x\"}", "{\(ok),\"model\":\"\\x\"}",
            "{\(ok),\"model\":\"a\tb\"}", "{\(ok),\"model\":\"\\u12\"}", "{\(ok),\"model\":tru}",
        ]
        for line in declined { XCTAssertNil(scanned(line), line) }
        // The property count the scanner holds is bounded: one past it goes the general way.
        let many = (0...SpanLineDecoder.maxProperties).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
        XCTAssertNil(scanned("{\(ok),\"properties\":{\(many)}}"))
        XCTAssertNotNil(scanned("{\(ok),\"properties\":{\(many.split(separator: ",").dropLast().joined(separator: ","))}}"))
        // Not UTF-8 (an overlong '/', a lone continuation byte, a surrogate encoded): declined.
        for bad: [UInt8] in [[0xC0, 0xAF], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            var line = Array("{\(ok),\"model\":\"".utf8)
            line += bad + Array("\"}".utf8)
            var scanner = SpanLineDecoder(maxBodyBytes: 100)
            var records = SpanRecords()
            XCTAssertFalse(line.withUnsafeBufferPointer { scanner.decode($0, into: &records) }, "\(bad)")
            XCTAssertThrowsError(try line.withUnsafeBufferPointer { try Span(jsonBytes: $0) })
        }
    }

    func testABodyOverTheLimitIsLeftOutAsTheStoreWould() throws {
        let line = #"{"span_id":"86fc0ba9d281c1207afe0f5b589d4efc","ts_start":1,"provider":"p","status":200,"request_body":"0123456789","response_body":"a\nb"}"#
        let s = try XCTUnwrap(scanned(line, maxBody: 9))
        XCTAssertNil(s.requestBody)
        XCTAssertEqual(s.responseBody, "a\nb")
        XCTAssertEqual(try XCTUnwrap(scanned(line, maxBody: 10)).requestBody, "0123456789")
        let escaped = #"{"span_id":"86fc0ba9d281c1207afe0f5b589d4efc","ts_start":1,"provider":"p","status":200,"response_body":"\n\n\n\n\n\n"}"#
        XCTAssertEqual(try XCTUnwrap(scanned(escaped, maxBody: 6)).responseBody, "\n\n\n\n\n\n", "measured unescaped")
        XCTAssertNil(try XCTUnwrap(scanned(escaped, maxBody: 5)).responseBody)
        // Left out or not, a body that is not a string (here not UTF-8) makes the line wrong.
        for maxBody in [3, 100] {
            let raw: [UInt8] = [0xB8, 0xB8, 0xB8, 0xB8]
            for escape in ["", "\\n"] {
                var line = Array(#"{"span_id":"86fc0ba9d281c1207afe0f5b589d4efc","ts_start":1,"provider":"p","status":200,"request_body":""#.utf8)
                line += raw + Array(escape.utf8) + Array("\"}".utf8)
                var scanner = SpanLineDecoder(maxBodyBytes: maxBody)
                var records = SpanRecords()
                XCTAssertFalse(line.withUnsafeBufferPointer { scanner.decode($0, into: &records) }, "\(maxBody) \(escape)")
            }
        }
    }

    /// The validator against the standard library's, on random bytes leaning to the hard cases.
    func testUTF8ValidationAgreesWithTheStandardLibrary() {
        var gen = TestSpans(seed: 5)
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                    0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        for _ in 0..<200_000 {
            let n = Int(gen.next() % 12)
            let bytes = (0..<n).map { _ in interesting[Int(gen.next() % UInt64(interesting.count))] }
            XCTAssertEqual(UTF8Validation.isValid(bytes), String(validating: bytes, as: UTF8.self) != nil, "\(bytes)")
            XCTAssertEqual(UTF8Validation.string(bytes[...]), String(validating: bytes, as: UTF8.self), "\(bytes)")
        }
        XCTAssertTrue(UTF8Validation.isValid(Array("plain ascii longer than eight bytes, then é and 😀".utf8)))
    }
}

/// The importer with several threads gives the store what it gets with one: the same records in
/// the same order, the same errors on the same line numbers.
final class ParallelImportTests: XCTestCase {
    func testSeveralThreadsStoreWhatOneStores() throws {
        let tmp = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var gen = TestSpans(seed: 21)
        var text = ""
        for (k, span) in gen.spans(4000, bodies: true).enumerated() {
            switch k % 97 {
            case 5: text += "{\"span_id\": 1}\n"                      // a bad line
            case 9: text += "   \n"                                  // a blank one
            case 13: text += "not json\r\n"
            case 17: text += "{\"junk\":\"" + String(repeating: "y", count: 3000) + "\"}\n"     // over the limit
            default: break
            }
            var line = span.jsonLine()
            if k % 2 == 0, span.latencyMs.isFinite { line = line.replacingOccurrences(of: "\"latency_ms\":", with: " \"latency_ms\" : ") }
            text += line + (k % 3 == 0 ? "\r\n" : "\n")
        }
        text += "{\"span_id\":\"unterminated"                              // the last line, no newline
        try text.write(toFile: tmp + "/in.jsonl", atomically: false, encoding: .utf8)

        func importing(threads: Int) throws -> (SpanImporter.Summary, [String], [Span]) {
            let dir = DataDirectory(tmp + "/d\(threads)")
            let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 1000))
            var importer = SpanImporter(store: store)
            importer.threads = threads
            importer.readBytes = 8 << 10                       // many pieces, lines across reads
            importer.maxLineBytes = 2048
            var errors: [String] = []
            let summary = try importer.run(path: tmp + "/in.jsonl") { errors.append("\($0): \($1)") }
            try store.sync()
            try store.close()
            return (summary, errors, try StoreReader(directory: dir).spans(includeBodies: true))
        }
        let (one, oneErrors, oneSpans) = try importing(threads: 1)
        let (three, threeErrors, threeSpans) = try importing(threads: 3)
        XCTAssertEqual(oneErrors, threeErrors)
        XCTAssertEqual(one.lines, three.lines)
        XCTAssertEqual(one.imported, three.imported)
        XCTAssertEqual(one.skipped, three.skipped)
        XCTAssertGreaterThan(oneErrors.count, 100)
        XCTAssertTrue(oneErrors.contains { $0.contains("over 2048 bytes") }, "\(oneErrors.prefix(5))")
        XCTAssertEqual(one.imported + one.skipped + 4000 / 97 + 1, one.lines, "blank lines are neither")
        XCTAssertEqual(oneSpans.count, one.imported)
        XCTAssertEqual(oneSpans.count, threeSpans.count)
        for (a, b) in zip(oneSpans, threeSpans) where !sameSpan(a, b) { XCTFail("\(a)\n vs \(b)"); break }
    }
}
