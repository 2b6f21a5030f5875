import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
@testable import PlumbQuery

/// Random and mutated queries over spans full of extreme values (Int64 limits, NaN, ±inf,
/// unicode, empty maps) must each end in a result or a `QueryError`: never a crash, never
/// another kind of error.
final class QueryFuzzTests: XCTestCase {
    /// Two segments (600 and 300 spans), built once for the class.
    static let dir: DataDirectory = {
        let dir = DataDirectory(makeTempDirectory() + "/data")
        var gen = TestSpans(seed: 99)
        var o = StoreOptions(); o.maintenanceInterval = 3600
        let store = try! SpanStore(directory: dir, options: o)
        for s in gen.spans(600, bodies: true) { store.append(s) }
        try! store.sync()
        for s in gen.spans(300, from: 600, bodies: true) { store.append(s) }
        try! store.close()
        return dir
    }()

    override class func tearDown() { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }

    static let seeds = [
        "SELECT model, sum(cost_usd), count(*) FROM spans WHERE status >= 500 GROUP BY model ORDER BY 2 DESC LIMIT 5",
        "SELECT date_trunc('hour', ts_start) AS h, quantile_cont(latency_ms, 0.95) FROM spans GROUP BY h HAVING count(*) > 1 ORDER BY h",
        "SELECT time_bucket(INTERVAL '5 minutes', ts_start), count_if(status = 200), median(ttft_ms) FROM spans GROUP BY 1",
        "SELECT CASE WHEN input_tokens > 100 THEN 'big' ELSE 'small' END, avg(output_tokens) FROM spans GROUP BY ALL",
        "SELECT span_id, properties['team'], coalesce(user_id, 'none') FROM spans WHERE provider IN ('openai', 'gemini') AND model LIKE 'gpt%' ORDER BY span_id LIMIT 10 OFFSET 2",
        "SELECT DISTINCT provider, stream FROM spans WHERE ts_start BETWEEN '2026-11-21' AND now() + INTERVAL '1 day'",
        "SELECT input_tokens + output_tokens, input_tokens * 3, -input_tokens, abs(input_tokens), round(cost_usd, 3), status // 7, status % 7, latency_ms / 0 FROM spans",
        "SELECT count(DISTINCT user_id), min(ts_start), max(model), sum(input_tokens), approx_quantile(latency_ms, 0.5) FROM spans",
        "SELECT request_body, length(response_body) FROM spans WHERE request_body IS NOT NULL AND NOT stream",
        "EXPLAIN SELECT count(*) FROM spans WHERE ts_start > now() - INTERVAL '1 hour' AND status = 200",
        "SELECT ts_start + INTERVAL '1 month', ts_end - ts_start, CAST(status AS VARCHAR) || '!', upper(provider) FROM spans",
    ]

    static let fragments = [
        "SELECT", "FROM", "spans", "WHERE", "GROUP", "BY", "ORDER", "HAVING", "LIMIT", "OFFSET", "AND", "OR", "NOT",
        "IN", "BETWEEN", "LIKE", "IS", "NULL", "CASE", "WHEN", "THEN", "ELSE", "END", "(", ")", ",", "*", "+", "-", "/",
        "//", "%", "=", "<>", "<", ">=", "||", "::", "[", "]", "'x'", "''", "0", "1", "-1", "9223372036854775807",
        "1e308", "0.5", "model", "status", "ts_start", "cost_usd", "input_tokens", "properties", "request_body",
        "count", "sum", "avg", "min", "max", "median", "quantile_cont", "date_trunc", "time_bucket", "now", "INTERVAL",
        "'1 day'", "'99999999 years'", "TIMESTAMP", "'2026-01-01'", "DISTINCT", "ALL", "ASC", "DESC", "NULLS", "FIRST",
        "CAST", "AS", "BIGINT", "VARCHAR", "TIMESTAMP", ";", "--", "/*", "\"", "'", "é", "\n", "EXPLAIN",
    ]

    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    func mutate(_ q: String, _ r: inout Rng) -> String {
        var tokens = q.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<(1 + r.below(3)) {
            switch r.below(5) {
            case 0 where !tokens.isEmpty: tokens.remove(at: r.below(tokens.count))
            case 1: tokens.insert(Self.fragments[r.below(Self.fragments.count)], at: r.below(tokens.count + 1))
            case 2 where tokens.count > 1:
                let i = r.below(tokens.count), j = r.below(tokens.count)
                tokens.swapAt(i, j)
            case 3 where !tokens.isEmpty: tokens[r.below(tokens.count)] = Self.fragments[r.below(Self.fragments.count)]
            default:
                var chars = Array(tokens.joined(separator: " "))
                if !chars.isEmpty { chars.remove(at: r.below(chars.count)) }
                tokens = [String(chars)]
            }
        }
        return tokens.joined(separator: " ")
    }

    func run(_ sql: String, _ engine: QueryEngine, _ outcomes: inout (ok: Int, errors: Int)) {
        if ProcessInfo.processInfo.environment["PLUMB_FUZZ_PRINT"] != nil { FileHandle.standardError.write(Data("FUZZ: \(sql)\n".utf8)) }
        do {
            _ = try engine.collect(sql)
            outcomes.ok += 1
        } catch let e as QueryError {
            XCTAssertFalse(e.message.isEmpty)
            if let o = e.offset { XCTAssertTrue(o >= 0 && o <= sql.utf8.count, "offset \(o) outside \(sql)") }
            _ = e.render(sql)
            outcomes.errors += 1
        } catch {
            XCTFail("\(sql)\n-> not a QueryError: \(error)")
        }
    }

    func testSeedQueriesRun() throws {
        let engine = QueryEngine(directory: Self.dir)
        for q in Self.seeds {
            do { _ = try engine.collect(q) } catch let e as QueryError {
                // Extreme test values may overflow a sum; anything else is a bug in a seed.
                XCTAssertTrue(e.message.contains("Overflow"), "\(q): \(e.render(q))")
            }
        }
    }

    func testMutatedQueriesNeverCrash() {
        let engine = QueryEngine(directory: Self.dir)
        var r = Rng(s: 0x1234_5678_9ABC_DEF1)
        var outcomes = (ok: 0, errors: 0)
        for i in 0..<3000 { run(mutate(Self.seeds[i % Self.seeds.count], &r), engine, &outcomes) }
        XCTAssertGreaterThan(outcomes.ok, 25, "some mutations must still be valid queries")
        XCTAssertGreaterThan(outcomes.errors, 100)
    }

    func testRandomTokenSoupNeverCrashes() {
        let engine = QueryEngine(directory: Self.dir)
        var r = Rng(s: 0xDEAD_BEEF_CAFE_F00D)
        var outcomes = (ok: 0, errors: 0)
        for _ in 0..<3000 {
            var parts = ["SELECT"]
            for _ in 0..<(1 + r.below(14)) { parts.append(Self.fragments[r.below(Self.fragments.count)]) }
            run(parts.joined(separator: " "), engine, &outcomes)
        }
        XCTAssertGreaterThan(outcomes.errors, 0)
    }

    func testRandomBytesNeverCrash() {
        let engine = QueryEngine(directory: Self.dir)
        var r = Rng(s: 42)
        var outcomes = (ok: 0, errors: 0)
        for _ in 0..<500 {
            let bytes = (0..<(1 + r.below(60))).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            run(String(decoding: bytes, as: UTF8.self), engine, &outcomes)
        }
    }
}
