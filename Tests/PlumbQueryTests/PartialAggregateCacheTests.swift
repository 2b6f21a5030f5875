import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
@testable import PlumbQuery

/// A query run again with kept row-group aggregates (the live dashboard's refresh) gives the
/// answer a fresh run gives, while the range slides, spans arrive and segments are added; and
/// it reads less.
final class PartialAggregateCacheTests: XCTestCase {
    var dir = DataDirectory("/nonexistent")
    override func setUp() { dir = DataDirectory(makeTempDirectory() + "/data") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }

    let base: Int64 = 1_795_255_200_000_000
    let queries = [
        """
        SELECT provider, count(*), count_if(status >= 500), sum(latency_ms), avg(latency_ms), min(ts_start), max(latency_ms),
               median(latency_ms), quantile_cont(latency_ms, 0.95), quantile_disc(ttft_ms, 0.5), sum(request_bytes), avg(request_bytes)
        FROM spans WHERE ts_start >= now() - INTERVAL '4 seconds' AND ts_start <= now() GROUP BY 1 ORDER BY 1
        """,
        "SELECT count(*), sum(request_bytes), max(model) FROM spans WHERE ts_start >= now() - INTERVAL '5 seconds'",
        """
        SELECT time_bucket(INTERVAL '1 second', ts_start) AS t, count(*), quantile_disc(latency_ms, 0.5) FROM spans
        WHERE ts_start >= now() - INTERVAL '6 seconds' AND provider = 'openai' GROUP BY 1 ORDER BY 1
        """,
        """
        SELECT coalesce(user_id, '(none)') AS u, sum(request_bytes) AS b FROM spans WHERE ts_start >= now() - INTERVAL '6 seconds'
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10
        """,
        "SELECT ts_start > now() - INTERVAL '2 seconds' AS recent, count(*) FROM spans GROUP BY 1 ORDER BY 1",
        "SELECT provider, count(DISTINCT model) FROM spans WHERE ts_start >= now() - INTERVAL '3 seconds' GROUP BY 1 ORDER BY 1",
    ]

    func same(_ a: [[Value]], _ b: [[Value]]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            guard x.count == y.count else { return false }
            for (u, v) in zip(x, y) {
                if case .double(let p) = u, case .double(let q) = v {
                    if p.isNaN && q.isNaN { continue }
                    if p == q || abs(p - q) <= 1e-9 * max(abs(p), abs(q)) { continue }
                    return false
                }
                if u != v { return false }
            }
        }
        return true
    }

    func testKeptAggregatesGiveTheFreshAnswerWhileTheRangeSlides() throws {
        try slide(compacting: false)
    }

    /// Segments of several row groups merged by compaction while the range slides: the kept
    /// per-segment states are rebuilt for what changed, and answers stay the fresh ones.
    func testKeptAggregatesGiveTheFreshAnswerAcrossCompaction() throws {
        try slide(compacting: true)
    }

    func slide(compacting: Bool) throws {
        var gen = TestSpans(seed: 21)
        var options = StoreOptions.manual(rowGroupSize: 400)
        if compacting { options.compaction = true; options.compactionTargetRows = 20_000 }
        let store = try SpanStore(directory: dir, options: options)
        var next = 0
        func add(_ n: Int, publish: Bool) throws {
            for s in gen.spans(n, from: next) where !s.provider.isEmpty { _ = store.append(s) }
            next += n
            if publish { try store.sync() } else { try store.flush() }
        }
        try add(3000, publish: true)
        try add(3000, publish: true)
        try add(500, publish: false)

        var cached = QueryEngine(directory: dir)
        cached.cache = PartialAggregateCache()
        var now = base + 6_500_000
        for round in 0..<(compacting ? 7 : 4) {
            if round == 2 { try add(1200, publish: true); try add(300, publish: false) }
            var compacted = false
            if compacting && round >= 3 {
                // Four more segments, then compaction merges small ones into one.
                for _ in 0..<4 { try add(900, publish: true) }
                let before = store.stats.compactions
                store.maintainNow()
                compacted = store.stats.compactions > before
            }
            now += 300_000
            cached.now = now
            let fresh = QueryEngine(directory: dir, now: now)
            for sql in queries {
                let want = try fresh.collect(sql)
                let got = try cached.collect(sql)
                XCTAssertTrue(same(got.rows, want.rows), "round \(round): \(sql)\n got \(got.rows.prefix(3))\nwant \(want.rows.prefix(3))")
                if round > 0, sql == queries[0], !compacted {      // merged segments are new content, read again
                    XCTAssertLessThan(got.stats.rowsRead, want.stats.rowsRead / 2, "round \(round): kept row groups were read again")
                }
            }
        }
        let cache = try XCTUnwrap(cached.cache)
        XCTAssertGreaterThan(cache.hits, 0)
        XCTAssertGreaterThan(cache.count, 0)
        if compacting { XCTAssertGreaterThan(store.stats.compactions, 0, "nothing was compacted") }
        try store.close()
    }
}
