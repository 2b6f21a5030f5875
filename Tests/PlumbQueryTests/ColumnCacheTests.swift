import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
@testable import PlumbQuery

/// Queries through a column cache give the answers of queries without one, also when the
/// budget forces columns out; repeated queries take their whole columns from it.
final class ColumnCacheTests: XCTestCase {
    var dir = DataDirectory("/nonexistent")
    override func setUp() { dir = DataDirectory(makeTempDirectory() + "/data") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }

    let queries = [
        "SELECT provider, count(*), sum(latency_ms), quantile_cont(latency_ms, 0.9) FROM spans GROUP BY 1 ORDER BY 1",
        "SELECT coalesce(user_id, '(none)') AS u, count(*) FROM spans WHERE status >= 400 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
        "SELECT span_id, model, latency_ms FROM spans WHERE latency_ms > 500 ORDER BY span_id LIMIT 20",
        "SELECT properties['team'] AS team, count(*) FROM spans GROUP BY 1 ORDER BY 1",
    ]

    func testCachedColumnsGiveTheSameAnswers() throws {
        var gen = TestSpans(seed: 5)
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 300))
        for s in gen.spans(2000, from: 0) where !s.provider.isEmpty { _ = store.append(s) }
        try store.sync()
        for s in gen.spans(900, from: 2000) where !s.provider.isEmpty { _ = store.append(s) }
        try store.sync()

        let plain = QueryEngine(directory: dir)
        for budget in [64 << 20, 40_000] {
            var cached = plain
            cached.columnCache = ColumnCache(budget: budget)
            let cache = try XCTUnwrap(cached.columnCache)
            var keptAfterFirstRound = 0
            for round in 0..<3 {
                for sql in queries {
                    XCTAssertEqual(try cached.collect(sql).rows, try plain.collect(sql).rows, "budget \(budget), round \(round): \(sql)")
                }
                if round == 0 { keptAfterFirstRound = cache.kept }
                XCTAssertLessThanOrEqual(cache.bytes, budget)
            }
            if budget > 1 << 20 {
                XCTAssertGreaterThan(keptAfterFirstRound, 0)
                XCTAssertEqual(cache.kept, keptAfterFirstRound, "repeated queries decoded whole columns again")
                XCTAssertGreaterThan(cache.hits, 2 * keptAfterFirstRound)
            } else {
                XCTAssertGreaterThan(cache.kept, keptAfterFirstRound, "a small budget keeps everything")
            }
        }
    }

    /// With `keepOnly`, whole columns of other names are decoded and not kept; answers stay
    /// those of queries without a cache.
    func testOnlyTheNamedColumnsAreKept() throws {
        var gen = TestSpans(seed: 6)
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 300))
        for s in gen.spans(1500, from: 0) where !s.provider.isEmpty { _ = store.append(s) }
        try store.sync()
        let plain = QueryEngine(directory: dir)
        let rowGroups = try plain.collect(queries[0]).stats.rowGroups
        for (names, perRowGroup) in [(Set<String>(), 0), (["provider"], 1), (["provider", "latency_ms"], 2)] as [(Set<String>, Int)] {
            var cached = plain
            cached.columnCache = ColumnCache(budget: 64 << 20)
            cached.columnCache?.keepOnly(names)
            XCTAssertEqual(try cached.collect(queries[0]).rows, try plain.collect(queries[0]).rows)
            XCTAssertEqual(cached.columnCache?.kept, perRowGroup * rowGroups, "kept \(names)")
        }
    }
}
