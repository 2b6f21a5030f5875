import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
@testable import PlumbQuery

/// Limits that keep one hostile query from taking a server down: nesting depth (every layer
/// after the parser recurses over the tree), a deadline; and an IN list's range, which prunes
/// row groups but proves nothing about their rows.
final class QueryLimitsTests: XCTestCase {
    func depthError(_ sql: String) -> QueryError? {
        do { _ = try Parser.parse(sql); return nil } catch let e as QueryError { return e } catch { return nil }
    }

    func testDeepNestingIsAnErrorAtItsPosition() {
        let n = 50_000
        let cases = [
            "SELECT " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n),
            "SELECT 1" + String(repeating: "+1", count: n),
            "SELECT 1" + String(repeating: " OR true", count: n),
            "SELECT " + String(repeating: "NOT ", count: n) + "true",
            "SELECT " + String(repeating: "- ", count: n) + "1",
            "SELECT " + String(repeating: "abs(", count: n) + "1" + String(repeating: ")", count: n),
            "SELECT properties" + String(repeating: "['a']", count: n),
            "SELECT 1" + String(repeating: "::int", count: n),
            "SELECT 'a'" + String(repeating: " || 'a'", count: n),
        ]
        for sql in cases {
            let e = depthError(sql)
            XCTAssertNotNil(e, String(sql.prefix(40)))
            XCTAssertTrue(e?.message.contains("nested too deeply") ?? false, e?.message ?? "")
            XCTAssertNotNil(e?.offset)
        }
    }

    func testNestingWithinTheLimitStillWorks() throws {
        let engine = QueryEngine(directory: DataDirectory("/nonexistent"))
        let paren = Parser.maxDepth - 10
        let fixed = "SELECT " + String(repeating: "(", count: paren) + "1" + String(repeating: ")", count: paren)
            + ", 1" + String(repeating: "+1", count: Parser.maxDepth - 10)
            + ", 5 IN (" + (0..<10_000).map(String.init).joined(separator: ",") + ")"
        let row = try engine.collect(fixed).rows[0]
        XCTAssertEqual(row, [.int(1), .int(Int64(Parser.maxDepth - 9)), .bool(true)])
    }

    func testTOMLNestingAndKeyLengthAreBounded() {
        XCTAssertThrowsError(try TOMLParser.parse("a = " + String(repeating: "[", count: 100_000))) { XCTAssertTrue("\($0)".contains("nested")) }
        XCTAssertThrowsError(try TOMLParser.parse("a = " + String(repeating: "{b = ", count: 100_000))) { XCTAssertTrue("\($0)".contains("nested")) }
        XCTAssertThrowsError(try TOMLParser.parse("[" + Array(repeating: "a", count: 100_000).joined(separator: ".") + "]"))
        XCTAssertNoThrow(try TOMLParser.parse("a = [[[1]]]\nb = {c = {d = 1}}\n[x.y.z]\nk = 1"))
    }

    func testAnINListIsEvaluatedOnRowGroupsItsRangeCovers() throws {
        let dir = DataDirectory(makeTempDirectory() + "/data")
        defer { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 100))
        for i in 0..<100 {
            var s = Span(spanID: SpanID.make(millis: UInt64(1_790_000_000_000 + i), random: UInt64(i), 1), tsStart: 1_790_000_000_000_000 + Int64(i) * 1000, tsEnd: 0)
            s.latencyMs = 0.5 + Double(i)      // 0.5 ... 99.5: no whole numbers
            s.status = Int64(200 + i % 3)
            store.append(s)
        }
        try store.sync()
        try store.close()
        let engine = QueryEngine(directory: dir)
        func count(_ sql: String) throws -> Value { try engine.collect(sql).rows[0][0] }
        XCTAssertEqual(try count("SELECT count(*) FROM spans WHERE latency_ms IN (" + (0...200).map(String.init).joined(separator: ",") + ")"), .int(0))
        XCTAssertEqual(try count("SELECT count(*) FROM spans WHERE latency_ms IN (0, 200)"), .int(0))
        XCTAssertEqual(try count("SELECT count(*) FROM spans WHERE status IN (200, 201, 202)"), .int(100))
        XCTAssertEqual(try count("SELECT count(*) FROM spans WHERE status IN (200, 202)"), .int(67))
        XCTAssertEqual(try count("SELECT count(*) FROM spans WHERE latency_ms IN (1.5, 7.5)"), .int(2))
    }

    func testAQueryPastItsDeadlineStops() throws {
        let dir = DataDirectory(makeTempDirectory() + "/data")
        defer { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }
        var gen = TestSpans(seed: 3)
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 100))
        for s in gen.spans(1000) { store.append(s) }
        try store.sync()
        try store.close()
        var engine = QueryEngine(directory: dir)
        engine.deadline = QueryDeadline(seconds: 0)
        XCTAssertThrowsError(try engine.collect("SELECT count(*) FROM spans")) { XCTAssertTrue($0 is QueryDeadline.Exceeded, "\($0)") }
        engine.deadline = QueryDeadline(seconds: 60)
        XCTAssertEqual(try engine.collect("SELECT count(*) FROM spans").rows[0][0], .int(1000))
    }
}
