import XCTest
import PlumbCore
import PlumbStore
@testable import PlumbQuery

/// Bad queries get an error that names the problem and points at it (line:column, caret, hint).
final class QueryErrorTests: XCTestCase {
    func error(_ sql: String) -> QueryError? {
        do {
            _ = try Binder(now: 0).bind(try Parser.parse(sql))
            return nil
        } catch let e as QueryError { return e } catch {
            XCTFail("not a QueryError: \(error)"); return nil
        }
    }

    func assertError(_ sql: String, _ message: String, line: Int, column: Int, hint: String? = nil,
                     file: StaticString = #filePath, at: UInt = #line) {
        guard let e = error(sql) else { return XCTFail("no error for \(sql)", file: file, line: at) }
        XCTAssertTrue(e.message.contains(message), "\(e.message)", file: file, line: at)
        guard let offset = e.offset else { return XCTFail("no position", file: file, line: at) }
        let (l, c, _) = QueryError.lineColumn(of: offset, in: sql)
        XCTAssertEqual(l, line, "line of \(e.message)", file: file, line: at)
        XCTAssertEqual(c, column, "column of \(e.message)", file: file, line: at)
        if let hint { XCTAssertTrue(e.hint?.contains(hint) ?? false, "hint: \(e.hint ?? "none")", file: file, line: at) }
    }

    func testPositionsAndHints() {
        assertError("SELECT modle FROM spans", "unknown column \"modle\"", line: 1, column: 8, hint: "\"model\"")
        assertError("SELECT model,\n  count(*)\nFROM spans\nWHERE stauts >= 500", "unknown column \"stauts\"", line: 4, column: 7, hint: "\"status\"")
        assertError("SELECT medain(latency_ms) FROM spans", "unknown function medain()", line: 1, column: 8, hint: "median()")
        assertError("SELECT quantile_cnt(latency_ms, 0.5) FROM spans", "unknown function", line: 1, column: 8, hint: "quantile_cont()")
        assertError("SELECT count(*) FROM span", "unknown table \"span\"", line: 1, column: 22, hint: "spans")
        assertError("SELECT model, count(* FROM spans", "expected \")\"", line: 1, column: 23)
        assertError("SELECT model FROM spans WHERE", "expected an expression, but the query ended", line: 1, column: 30)
        assertError("SELECT model FROM spans WHERE sum(cost_usd) > 1", "aggregate functions are not allowed in WHERE", line: 1, column: 31)
        assertError("SELECT model, count(*) FROM spans GROUP BY provider", "must appear in the GROUP BY clause", line: 1, column: 8)
        assertError("SELECT 'abc", "unterminated string literal", line: 1, column: 8)
        assertError("SELECT 1 FROM spans ORDER BY 3", "ORDER BY position 3", line: 1, column: 30)
        assertError("SELECT model FROM spans GROUP BY 2", "GROUP BY position 2", line: 1, column: 34)
        assertError("SELECT sum(max(cost_usd)) FROM spans", "cannot be nested", line: 1, column: 12)
        assertError("SELECT date_trunc('fortnight', ts_start) FROM spans", "unknown date part", line: 1, column: 19)
        assertError("SELECT * FROM spans WHERE ts_start > INTERVAL '3 parsecs'", "invalid interval", line: 1, column: 38)
        assertError("SELECT * FROM spans WHERE ts_start > '2026-13-01'", "Could not convert", line: 1, column: 38)
        assertError("SELECT quantile_cont(latency_ms, 2) FROM spans", "between 0 and 1", line: 1, column: 34)
        assertError("SELECT latency_ms + provider FROM spans", "cannot apply +", line: 1, column: 19)
        assertError("SELECT 1 // 0", "Division by zero", line: 1, column: 10)
        assertError("SELECT model FROM spans LIMIT -1", "non-negative whole number", line: 1, column: 31)
        assertError("DELETE FROM spans", "expected SELECT", line: 1, column: 1)
        assertError("SELECT 1; SELECT 2", "only one statement", line: 1, column: 11)
        assertError("SELECT CAST(status AS money) FROM spans", "unknown type", line: 1, column: 23)
        assertError("SELECT properties FROM spans GROUP BY properties", "cannot GROUP BY a map", line: 1, column: 39)
        assertError("SELECT 1 ? 2", "unexpected character \"?\"", line: 1, column: 10)
    }

    func testRenderedErrorHasCaretUnderTheSpot() {
        let sql = "SELECT provider,\n       modle\nFROM spans"
        let text = error(sql)!.render(sql)
        XCTAssertEqual(text, """
            line 2:8: unknown column "modle"
                     modle
                     ^
            hint: did you mean "model"?
            """)
    }
}
