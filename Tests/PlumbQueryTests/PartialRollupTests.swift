import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
@testable import PlumbQuery

/// Partial rollups stand in for row groups without changing an answer: a live dashboard's
/// queries give, from a cold cache, what a plain run gives, whether the rollups hold their
/// row groups' states, hold another query's, are damaged, or were written for other queries.
final class PartialRollupTests: XCTestCase {
    let base: Int64 = 1_795_255_200_000_000
    let range = "ts_start >= now() - INTERVAL '7200 seconds' AND ts_start <= now()"
    var queries: [String] {
        [
            "SELECT provider, sum(cost_usd), count(*), avg(latency_ms), min(ts_start), max(model), count_if(status >= 500), sum(request_bytes), avg(request_bytes) FROM spans WHERE \(range) GROUP BY 1 ORDER BY 1",
            "SELECT time_bucket(INTERVAL '300 seconds', ts_start) AS t, coalesce(sum(cost_usd), 0) FROM spans WHERE \(range) GROUP BY 1 ORDER BY 1",
            "SELECT count(*) FROM spans WHERE \(range) AND cost_usd IS NULL AND status < 400",
            "SELECT coalesce(user_id, '(none)') AS u, sum(cost_usd) AS spend FROM spans WHERE \(range) GROUP BY 1 ORDER BY 2 DESC NULLS LAST, 1 LIMIT 5",
            "SELECT provider, model, status >= 500 AS bad, any_value(provider), count(*) FROM spans WHERE \(range) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            // Not held (quantiles keep every value; DISTINCT keeps sets): read from the row groups.
            "SELECT provider, quantile_cont(latency_ms, 0.95) FROM spans WHERE \(range) GROUP BY 1 ORDER BY 1",
            "SELECT count(DISTINCT model) FROM spans WHERE \(range)",
        ]
    }

    func store(_ dir: DataDirectory) throws -> SpanStore {
        var gen = TestSpans(seed: 9)
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 300))
        var next = 0
        for n in [1200, 900, 700] {
            for k in next..<next + n {
                var s = gen.span(index: 0, baseMicros: base + Int64(k) * 3_000_000)
                if k % 13 == 0 { s.userID = nil }
                s.costUSD = k % 9 == 0 ? nil : Double(k % 17) / 1000
                _ = store.append(s)
            }
            next += n
            try store.sync()
        }
        return store
    }

    /// A live dashboard's engine (a cache, cold) against a plain run, as of `now`.
    func assertSameAnswers(_ dir: DataDirectory, now: Int64, expectRead: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        var live = QueryEngine(directory: dir, now: now)
        live.cache = PartialAggregateCache()
        var plain = QueryEngine(directory: dir, now: now)
        plain.partialRollups = nil
        for sql in queries {
            let got = try live.collect(sql).rows, want = try plain.collect(sql).rows
            XCTAssertEqual(got.count, want.count, sql, file: file, line: line)
            XCTAssertGreaterThan(want.count, 0, sql, file: file, line: line)
            for (g, w) in zip(got, want) {
                for (a, b) in zip(g, w) {
                    if case .double(let x) = a, case .double(let y) = b {
                        XCTAssertEqual(x, y, accuracy: 1e-9 * max(1, abs(y)), sql, file: file, line: line)
                    } else {
                        XCTAssertEqual(a, b, sql, file: file, line: line)
                    }
                }
            }
        }
        XCTAssertEqual(live.partialRollups!.statesRead > 0, expectRead, "states read from rollups", file: file, line: line)
    }

    func testRollupsGiveThePlainAnswers() throws {
        let dir = DataDirectory(makeTempDirectory() + "/data")
        defer { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }
        let store = try store(dir)
        defer { try? store.close() }
        let end = base + 2800 * 3_000_000
        // Without rollups, then with: the range covering all, then starting inside a row group.
        try assertSameAnswers(dir, now: end, expectRead: false)
        let writer = RollupWriter(directory: dir, queries: queries)
        XCTAssertEqual(try writer.update().written, 6)       // minutes and partials of 3 segments
        for now in [end, end + 40 * 60_000_000, end - 30 * 60_000_000] {
            try assertSameAnswers(dir, now: now, expectRead: true)
        }
        // Written for other queries: rewritten for these; damaged: the row groups are read.
        let live = try StoreReader(directory: dir).view().live
        let first = PartialRollups.file(dir.rollups, hash: live[0].sha256)
        try FileSystem.writeAtomically(first, RollupFile.encode(kind: PartialRollups.kind, hash: live[0].sha256,
                                                                  entries: [(PartialRollups.queriesEntry, Array("SELECT 1".utf8))]))
        XCTAssertEqual(try RollupWriter(directory: dir, queries: queries).update().written, 1)
        for r in live {
            let path = PartialRollups.file(dir.rollups, hash: r.sha256)
            var bytes = try FileSystem.readAll(path)
            for at in stride(from: bytes.count - 1, to: bytes.count / 2, by: -97) { bytes[at] ^= 0x5A }
            try FileSystem.writeAtomically(path, bytes)
        }
        try assertSameAnswers(dir, now: end, expectRead: true)     // the undamaged entries
    }

    func rows(_ b: Batch) -> [[Value]] { (0..<b.count).map { i in b.columns.map { $0.value(at: i) } } }

    func testAStateSurvivesItsBytes() throws {
        let dir = DataDirectory(makeTempDirectory() + "/data")
        defer { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }
        let store = try store(dir)
        defer { try? store.close() }
        let engine = QueryEngine(directory: dir, now: base + 2800 * 3_000_000)
        let snapshot = try engine.snapshot(from: .min, to: .max)
        let segment = snapshot.segments[1].0.sha256
        for sql in queries {
            let bound = try engine.bind(sql)
            let exec = QueryExecutor(query: bound, snapshot: snapshot, directory: dir)
            guard let plan = bound.aggregate, AggregateState.persistable(plan) else {
                XCTAssertNil(try exec.rowGroupState(segment: segment, group: 1), sql)
                continue
            }
            let (_, state) = try XCTUnwrap(try exec.rowGroupState(segment: segment, group: 1), sql)
            let bytes = try XCTUnwrap(state.encoded(), sql)
            let back = try AggregateState(plan: plan, decoding: bytes)
            XCTAssertEqual(rows(back.finish()), rows(state.finish()), sql)
            XCTAssertEqual(back.encoded(), bytes, sql)
            XCTAssertThrowsError(try AggregateState(plan: plan, decoding: bytes + [0]), sql)
            XCTAssertThrowsError(try AggregateState(plan: plan, decoding: Array(bytes.dropLast())), sql)
        }
    }
}
