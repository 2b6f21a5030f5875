import PlumbCore
import XCTest
@testable import PlumbExport

final class ClickHouseTests: XCTestCase {
    func testRowBinaryBytes() {
        var w = RowBinaryWriter()
        w.string("ab"); w.nullableString(nil); w.nullableInt64(-2); w.bool(true); w.dateTime64(1)
        w.map(["b": "2", "a": ""]); w.float64(1.5)
        XCTAssertEqual(w.bytes, [2, 0x61, 0x62, 1, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 1, 0, 0, 0, 0, 0, 0, 0,
                                 2, 1, 0x61, 0, 1, 0x62, 1, 0x32, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F])
        var long = RowBinaryWriter()
        long.string(String(repeating: "x", count: 300))
        XCTAssertEqual(Array(long.bytes.prefix(2)), [0xAC, 0x02], "LEB128 length")
    }

    /// The DDL the exporter sends creates the columns it writes (names checked here; the
    /// Python suite runs it on ClickHouse and compares types).
    func testSchemaStatementsNameEveryColumn() {
        let sql = ClickHouseSchema.statements(database: "db1", table: "t1", bodiesTable: "t1_bodies", ttlDays: 30, bodyTTLDays: 7)
        XCTAssertEqual(sql.count, 3)
        XCTAssertTrue(sql[0].hasPrefix("CREATE DATABASE IF NOT EXISTS db1"))
        XCTAssertTrue(sql[1].contains("CREATE TABLE IF NOT EXISTS db1.t1\n"), sql[1])
        XCTAssertTrue(sql[2].contains("CREATE TABLE IF NOT EXISTS db1.t1_bodies"), sql[2])
        XCTAssertTrue(sql[1].contains("INTERVAL 30 DAY") && sql[2].contains("INTERVAL 7 DAY"))
        XCTAssertFalse(sql.joined().contains("{"), "every placeholder filled")
        for c in ClickHouseSchema.spanColumns { XCTAssertTrue(sql[1].contains("\n    \(c.name) "), c.name) }
        for c in ClickHouseSchema.bodyColumns { XCTAssertTrue(sql[2].contains("\n    \(c.name) "), c.name) }
    }

    func testErrorsThatSkipABatchAndErrorsThatWait() {
        XCTAssertEqual(ClickHouseSink.outcome(ClickHouseError(code: 27, message: "Cannot parse input")), .rejected(reason: "Cannot parse input"))
        XCTAssertEqual(ClickHouseSink.outcome(ClickHouseError(code: 516, message: "auth", httpStatus: 403)), .retry(after: nil, reason: "auth"))
        XCTAssertEqual(ClickHouseSink.outcome(ClickHouseError(code: 60, message: "no table", httpStatus: 404)), .retry(after: nil, reason: "no table"))
        XCTAssertEqual(ClickHouseSink.outcome(ClickHouseError(code: nil, message: "down", transport: true)), .retry(after: nil, reason: "down"))
    }

    func testSettingsNeverTakeAPasswordFromTheFile() {
        XCTAssertThrowsError(try ClickHouseExportSettings(table: ["url": .string("http://c:8123"), "password": .string("x")], environment: [:])) {
            XCTAssertTrue("\($0)".contains("PLUMB_CLICKHOUSE_PASSWORD"))
        }
        XCTAssertThrowsError(try ClickHouseExportSettings(table: ["url": .string("http://c:8123"), "table": .string("x; DROP")], environment: [:]))
        let s = try? ClickHouseExportSettings(table: ["url": .string("http://c:8123/"), "ttl": .string("30d")], environment: ["PLUMB_CLICKHOUSE_PASSWORD": "pw"])
        XCTAssertEqual(s?.connection.url, "http://c:8123")
        XCTAssertEqual(s?.connection.password, "pw")
        XCTAssertEqual(s?.ttlDays, 30)
        XCTAssertEqual(s?.bodiesTable, "span_bodies")
    }
}
