import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
@testable import PlumbQuery

/// What a query sees: published segments and the spans still in the WAL, each exactly once, one
/// consistent snapshot while compaction replaces files, and zone maps that skip what they should.
final class QuerySnapshotTests: XCTestCase {
    var dir = DataDirectory("/nonexistent")
    override func setUp() { dir = DataDirectory(makeTempDirectory() + "/data") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }

    func count(_ sql: String = "SELECT count(*) FROM spans") throws -> Int64 {
        guard case .int(let n) = try QueryEngine(directory: dir).collect(sql).rows[0][0] else { XCTFail("not a count"); return -1 }
        return n
    }

    /// Appends `spans` and waits until they are published in a segment of their own.
    func publish(_ spans: [Span], to store: SpanStore) throws -> [Span] {
        for s in spans { store.append(s) }
        try store.sync()
        return spans
    }

    func testSpansInTheWALAreVisibleBeforeTheyArePublished() throws {
        var gen = TestSpans(seed: 5)
        var o = StoreOptions(); o.cutInterval = 3600; o.maintenanceInterval = 3600
        let store = try SpanStore(directory: dir, options: o)
        let first = gen.spans(200, bodies: true)
        for s in first { store.append(s) }
        try store.sync()                                    // published: one segment
        let more = gen.spans(150, from: 200, bodies: true)
        for s in more { store.append(s) }
        try store.flush()                                   // durable in the WAL, not in a segment
        XCTAssertEqual(try StoreReader(directory: dir).catalog.liveSegments().count, 1)
        XCTAssertEqual(try count(), 350)
        let withBody = more.first { $0.requestBody != nil }!
        let r = try QueryEngine(directory: dir).collect("SELECT request_body, response_body FROM spans WHERE span_id = '\(withBody.spanID)'")
        XCTAssertEqual(r.rows.first, [.string(withBody.requestBody!), withBody.responseBody.map(Value.string) ?? .null])
        let plan = try QueryEngine(directory: dir).collect("EXPLAIN SELECT count(*) FROM spans").planLines.joined(separator: "\n")
        XCTAssertTrue(plan.contains("unpublished spans (WAL): 150"), plan)
        // Groups over segment rows (dictionary-coded) and WAL rows (plain strings) are one set.
        let byProvider = try QueryEngine(directory: dir).collect("SELECT provider, count(*) FROM spans GROUP BY provider").rows
        XCTAssertEqual(byProvider.count, Set((first + more).map(\.provider)).count)
        XCTAssertEqual(byProvider.reduce(Int64(0)) { if case .int(let n) = $1[1] { return $0 + n }; return $0 }, 350)
        let byStatus = try QueryEngine(directory: dir).collect("SELECT status, count(*) FROM spans GROUP BY status").rows
        XCTAssertEqual(byStatus.count, Set((first + more).map(\.status)).count)
        try store.close()
        XCTAssertEqual(try count(), 350, "after publishing, still each span once")
    }

    func testPublishedRecordsLeftInTheWALAreNotCountedTwice() throws {
        var gen = TestSpans(seed: 6)
        let first = gen.spans(300)
        let store = try SpanStore(directory: dir, options: StoreOptions())
        for s in first { store.append(s) }
        try store.close()
        // As if the writer died after publishing the first 300 but before releasing their WAL,
        // having logged 40 more.
        let more = gen.spans(40, from: 300)
        let w = try WriteAheadLog.Writer(directory: dir.wal, firstSeq: 1)
        try w.append(first[...], firstSeq: 1)
        try w.append(more[...], firstSeq: 301)
        XCTAssertEqual(try count(), 340)
    }

    /// Queries of one pinned view (a dashboard frame's panels) agree with each other: spans
    /// that land after it are seen only from the next view, and a view whose segments
    /// compaction has since replaced is not used (its query reads the store afresh).
    func testQueriesOfAPinnedViewSeeTheSameStore() throws {
        var gen = TestSpans(seed: 8)
        var o = StoreOptions(); o.cutInterval = 3600; o.maintenanceInterval = 3600
        o.compactionTargetRows = 10_000; o.compactionMinSegments = 2
        let store = try SpanStore(directory: dir, options: o)
        for b in 0..<3 {
            for s in gen.spans(100, from: b * 100) { store.append(s) }
            try store.sync()
        }
        for s in gen.spans(40, from: 300) { store.append(s) }
        try store.flush()                                    // 300 in segments, 40 in the WAL
        var engine = QueryEngine(directory: dir)
        engine.takeView()
        XCTAssertEqual(engine.view?.live.count, 3)
        XCTAssertEqual(engine.view?.unpublished.count, 40)
        func count(_ e: QueryEngine) throws -> Value { try e.collect("SELECT count(*) FROM spans").rows[0][0] }
        XCTAssertEqual(try count(engine), .int(340))
        for s in gen.spans(60, from: 340) { store.append(s) }
        try store.flush()
        XCTAssertEqual(try count(engine), .int(340), "spans after the view wait for the next one")
        XCTAssertEqual(try count(QueryEngine(directory: dir)), .int(400))
        store.maintainNow()                                  // replaces the view's segment files
        XCTAssertNil(try engine.view?.snapshot(), "a view naming deleted files is not used")
        XCTAssertEqual(try count(engine), .int(400), "so the query reads the store afresh")
        engine.takeView()
        XCTAssertEqual(try count(engine), .int(400))
        try store.close()
    }

    func testASnapshotStaysWholeWhileCompactionReplacesItsFiles() throws {
        var gen = TestSpans(seed: 7)
        var o = StoreOptions(); o.maintenanceInterval = 3600; o.compactionTargetRows = 10_000; o.compactionMinSegments = 2
        let store = try SpanStore(directory: dir, options: o)
        for b in 0..<6 {
            for s in gen.spans(100, from: b * 100) { store.append(s) }
            try store.sync()
        }
        let reader = try StoreReader(directory: dir)
        let snapshot = try reader.snapshot()
        XCTAssertEqual(snapshot.segments.count, 6)
        store.maintainNow()                                  // merges and deletes the six files
        XCTAssertLessThan(try StoreReader(directory: dir).catalog.liveSegments().count, 6)
        let q = try QueryEngine(directory: dir).bind("SELECT count(*), count(DISTINCT span_id) FROM spans")
        let rows = try QueryExecutor(query: q, snapshot: snapshot, directory: dir).collect()
        XCTAssertEqual(rows[0].columns[0].value(at: 0), .int(600))
        XCTAssertEqual(rows[0].columns[1].value(at: 0), .int(600))
        XCTAssertEqual(try count("SELECT count(DISTINCT span_id) FROM spans"), 600, "a fresh query sees the merged segment")
        try store.close()
    }

    func testZoneMapsAndTimeRangesSkipSegmentsAndRowGroups() throws {
        var gen = TestSpans(seed: 8)
        var o = StoreOptions(); o.maintenanceInterval = 3600; o.rowGroupSize = 100
        let store = try SpanStore(directory: dir, options: o)
        // Four segments a day apart, each of five row groups of 100 spans.
        let day: Int64 = 86_400_000_000
        var all: [Span] = []
        for d in 0..<4 {
            let spans = (0..<500).map { i -> Span in
                var s = gen.span(index: d * 500 + i, baseMicros: 1_790_000_000_000_000 + Int64(d) * day)
                s.status = i < 100 ? 503 : 200                // errors only in each segment's first row group
                return s
            }
            all += try publish(spans, to: store)
        }
        try store.close()
        let engine = QueryEngine(directory: dir)
        let since = Timestamp.format(1_790_000_000_000_000 + 3 * day)
        let plan = try engine.collect("EXPLAIN SELECT count(*) FROM spans WHERE ts_start >= '\(since)'").planLines
        XCTAssertTrue(plan.contains { $0.contains("segments: 1 read, 3 skipped of 4 (3 by the catalog's time ranges") }, plan.joined(separator: "\n"))
        XCTAssertEqual(try count("SELECT count(*) FROM spans WHERE ts_start >= '\(since)'"), Int64(all.filter { $0.tsStart >= 1_790_000_000_000_000 + 3 * day }.count))
        let errors = try engine.collect("EXPLAIN SELECT count(*) FROM spans WHERE status = 503").planLines
        XCTAssertTrue(errors.contains { $0.contains("row groups: 4 read, 16 skipped by zone maps") }, errors.joined(separator: "\n"))
        XCTAssertEqual(try count("SELECT count(*) FROM spans WHERE status = 503"), 400)
        let none = try engine.collect("EXPLAIN SELECT count(*) FROM spans WHERE status > 600").planLines
        XCTAssertTrue(none.contains { $0.contains("segments: 0 read, 4 skipped of 4 (0 by the catalog's time ranges, 4 by zone maps)") }, none.joined(separator: "\n"))
        let r = try engine.collect("SELECT count(*) FROM spans WHERE status = 503")
        XCTAssertEqual(r.stats.rowsRead, 400, "only the four row groups with errors were read")
    }

    func testALookupByARandomSpanIDReadsOnlyTheRowGroupsItsFiltersAllow() throws {
        var gen = TestSpans(seed: 12)
        var o = StoreOptions(); o.compaction = false; o.rowGroupSize = 250
        let store = try SpanStore(directory: dir, options: o)
        var all: [Span] = []
        for b in 0..<4 {
            // Random ids, as imported ones are: min/max zone maps cannot rule a row group out.
            let spans = gen.spans(1_000, from: b * 1_000).map { s -> Span in
                var s = s
                s.spanID = Hex.encode((0..<16).map { _ in UInt8(truncatingIfNeeded: gen.next()) })
                return s
            }
            all += try publish(spans, to: store)
        }
        try store.close()
        let engine = QueryEngine(directory: dir)
        let wanted = all[2_345]
        let r = try engine.collect("SELECT span_id, model FROM spans WHERE span_id = '\(wanted.spanID)'")
        XCTAssertEqual(r.rows.count, 1)
        XCTAssertEqual(r.rows.first?.first, .string(wanted.spanID))
        XCTAssertLessThanOrEqual(r.stats.rowsRead, 500, "one row group, or two with a false positive, of sixteen")
        let plan = try engine.collect("EXPLAIN SELECT * FROM spans WHERE span_id = '\(wanted.spanID)'").planLines.joined(separator: "\n")
        XCTAssertTrue(plan.contains("by span-id filters"), plan)
        XCTAssertEqual(try count("SELECT count(*) FROM spans WHERE span_id = 'ffffffffffffffffffffffffffffffff'"), 0)
    }
}

extension QueryResult {
    var planLines: [String] { rows.map { if case .string(let s) = $0[0] { return s }; return "" } }
}
