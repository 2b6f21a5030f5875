import XCTest
import Foundation
import PlumbCore
import PlumbTestSupport
@testable import PlumbStore

final class StoreTests: XCTestCase {
    var dir = DataDirectory("/nonexistent")
    override func setUp() { dir = DataDirectory(makeTempDirectory() + "/data") }
    override func tearDown() { try? FileManagerLite.removeTree(FileSystem.directory(of: dir.path)) }

    func options(_ tweak: (inout StoreOptions) -> Void = { _ in }) -> StoreOptions {
        var o = StoreOptions()
        o.cutInterval = 0.2
        o.maintenanceInterval = 3600
        tweak(&o)
        return o
    }

    func readAll(includeBodies: Bool = true) throws -> [Span] {
        try StoreReader(directory: dir).spans(includeBodies: includeBodies)
    }

    /// Appends `count` batches of `size` spans, syncing after each, so each becomes one segment.
    func publishBatches(_ store: SpanStore, _ gen: inout TestSpans, count: Int, size: Int,
                        bodies: (Int) -> Bool = { _ in false }) throws -> [[Span]] {
        var batches: [[Span]] = []
        for b in 0..<count {
            let spans = gen.spans(size, from: b * size, bodies: bodies(b))
            for s in spans { store.append(s) }
            try store.sync()
            batches.append(spans)
        }
        return batches
    }

    func assertSameSet(_ got: [Span], _ want: [Span], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, "count", file: file, line: line)
        let byID = Dictionary(got.map { ($0.spanID, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byID.count, got.count, "duplicate span ids", file: file, line: line)
        for w in want {
            guard let g = byID[w.spanID] else { return XCTFail("missing \(w.spanID)", file: file, line: line) }
            XCTAssertTrue(sameSpan(g, w), "differs: \(w.spanID)", file: file, line: line)
        }
    }

    func testAppendSyncReadBackWithBodies() throws {
        var gen = TestSpans(seed: 21)
        let spans = gen.spans(20_000, bodies: true)
        let store = try SpanStore(directory: dir, options: options { $0.rowGroupSize = 4096 })
        for s in spans { XCTAssertTrue(store.append(s)) }
        try store.sync()
        assertSameSet(try readAll(), spans)
        // Row groups are built two at a time and must still land in append order.
        XCTAssertEqual(try readAll(includeBodies: false).map(\.spanID), spans.map(\.spanID))
        try store.close()
        assertSameSet(try readAll(), spans)
        XCTAssertTrue(try StoreVerifier.verify(dir).failures.isEmpty)
    }

    func testABurstInSmallBlocksIsPublishedInOrderWithRowGroupsAcrossBlocks() throws {
        // Blocks of 10 spans, row groups of 150 and segments of about 1,000: every row group is
        // built from pieces of several blocks, moved whole or copied onto a tail.
        var gen = TestSpans(seed: 25)
        let spans = gen.spans(5_555, bodies: true)
        let store = try SpanStore(directory: dir, options: options {
            $0.blockRows = 10; $0.rowGroupSize = 150; $0.cutRows = 1_000
        })
        for s in spans { XCTAssertTrue(store.append(s)) }
        try store.sync()
        XCTAssertEqual(try readAll(includeBodies: false).map(\.spanID), spans.map(\.spanID))
        // Again, from blocks the publisher handed back.
        let more = gen.spans(2_345, from: 5_555)
        for s in more { XCTAssertTrue(store.append(s)) }
        try store.close()
        XCTAssertEqual(try readAll(includeBodies: false).map(\.spanID), (spans + more).map(\.spanID))
        assertSameSet(try readAll(), spans + more)
        XCTAssertTrue(try StoreVerifier.verify(dir).failures.isEmpty)
    }

    func testManyConcurrentProducers() throws {
        let store = try SpanStore(directory: dir, options: options { $0.cutRows = 5_000 })
        let producers = 8, each = 5_000
        let spans: [[Span]] = (0..<producers).map { p in
            var gen = TestSpans(seed: UInt64(100 + p))
            return gen.spans(each, from: p * each)
        }
        DispatchQueue.concurrentPerform(iterations: producers) { p in
            for s in spans[p] { XCTAssertTrue(store.append(s)) }
        }
        try store.flush()
        XCTAssertEqual(store.stats.durableSeq, UInt64(producers * each))
        try store.close()
        assertSameSet(try readAll(), spans.flatMap { $0 })
    }

    func testWALFilesAreRecycledAndACleanReopenReportsNothing() throws {
        var gen = TestSpans(seed: 23)
        let store = try SpanStore(directory: dir, options: options { $0.cutRows = 2_000 })
        let first = try publishBatches(store, &gen, count: 8, size: 2_000).flatMap { $0 }
        try store.close()
        let kept = WriteAheadLog.Recycling.names(in: dir.wal).count
        XCTAssertTrue((1...WriteAheadLog.Recycling.keep).contains(kept), "released WAL files are kept for reuse: \(kept)")
        let reopened = try SpanStore(directory: dir, options: options { $0.cutRows = 2_000 })
        XCTAssertEqual(reopened.recoveryNotes, [], "old bytes in recycled files are never replayed or reported")
        XCTAssertLessThan(WriteAheadLog.Recycling.names(in: dir.wal).count, kept, "the new log reuses one")
        var more: [Span] = []
        for b in 0..<4 {
            let spans = gen.spans(500, from: 16_000 + b * 500)
            for s in spans { reopened.append(s) }
            try reopened.flush()          // durable in the WAL, not yet published
            more += spans
        }
        try reopened.close()
        assertSameSet(try readAll(), first + more)
    }

    func testMemtableIsCutEarlyWhileThePublisherIdles() throws {
        // Neither the age (an hour) nor the size limit (2,000) would cut 1,500 spans; an idle
        // publisher with half of `cutRows` waiting does.
        let store = try SpanStore(directory: dir, options: options {
            $0.cutInterval = 3600; $0.cutRows = 2_000; $0.rowGroupSize = 100
        })
        var gen = TestSpans(seed: 24)
        for s in gen.spans(1_500) { store.append(s) }
        let deadline = Date().addingTimeInterval(20)
        while store.stats.segmentsPublished == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertGreaterThanOrEqual(store.stats.segmentsPublished, 1)
        XCTAssertTrue((1_000...1_500).contains(store.stats.publishedSeq), "cut at half of cutRows or more: \(store.stats.publishedSeq)")
        try store.close()
    }

    /// `cutBytes` bounds what a memtable holds (a server's budget for a second of spans with
    /// bodies): the same spans make one segment without it and one per `cutBytes` or so with it.
    func testMemtableIsCutAtCutBytes() throws {
        var gen = TestSpans(seed: 26)
        let spans = gen.spans(8_000, bodies: true)
        let bytes = SpanRecords(spans).encoded.byteCount
        let cutBytes = 128 << 10
        XCTAssertGreaterThan(bytes, 8 * cutBytes, "the test wants some MB of records")
        for bounded in [false, true] {
            if bounded { tearDown(); setUp() }
            let store = try SpanStore(directory: dir, options: options {
                $0.cutInterval = 3600; $0.cutRows = 1_000_000; $0.rowGroupSize = 500
                $0.blockBytes = 32 << 10; $0.compaction = false
                if bounded { $0.cutBytes = cutBytes }
            })
            for s in spans { XCTAssertTrue(store.append(s)) }
            try store.sync()
            let segments = store.stats.segmentsPublished
            try store.close()
            assertSameSet(try readAll(), spans)
            if bounded {
                // Each memtable was cut within a block (32 KiB) and a span past cutBytes.
                XCTAssertGreaterThanOrEqual(segments, bytes / (cutBytes + (32 << 10) + (4 << 10)), "\(segments) segments for \(bytes) bytes")
                XCTAssertLessThanOrEqual(segments, bytes / cutBytes + 1)
            } else {
                XCTAssertEqual(segments, 1)
            }
        }
    }

    /// The segments-only view (the rollup writer's) reads the catalog and leaves the WAL alone:
    /// it used to decode every unpublished span and drop them, every round.
    func testTheSegmentsViewLeavesTheWALAlone() throws {
        let store = try SpanStore(directory: dir, options: options { $0.cutInterval = 3600; $0.cutRows = 1_000_000 })
        var gen = TestSpans(seed: 25)
        let published = gen.spans(200)
        for s in published { store.append(s) }
        try store.sync()
        for s in gen.spans(300, from: 200, bodies: true) { store.append(s) }
        try store.flush()
        let reader = try StoreReader(directory: dir)
        let full = try reader.view(), segments = try reader.segmentsView()
        XCTAssertEqual(full.unpublished.count, 300)
        XCTAssertTrue(segments.unpublished.isEmpty)
        XCTAssertEqual(segments.live.map(\.id), full.live.map(\.id))
        XCTAssertEqual(segments.retentionCutoff, full.retentionCutoff)
        XCTAssertEqual(try segments.snapshot()?.segments.reduce(0) { $0 + Int($1.record.rows) }, published.count)
        try store.close()
    }

    func testOnlyOneWriter() throws {
        let store = try SpanStore(directory: dir, options: options())
        XCTAssertThrowsError(try SpanStore(directory: dir, options: options())) { e in
            XCTAssertTrue("\(e)".contains("already open for writing"), "\(e)")
        }
        try store.close()
    }

    func testUnpublishedWALIsReplayedOnOpenExactlyOnce() throws {
        var gen = TestSpans(seed: 22)
        let first = gen.spans(300, bodies: true)
        let store = try SpanStore(directory: dir, options: options())
        for s in first { store.append(s) }
        try store.close()
        // As if the process died after logging 200 more spans but before publishing them, and
        // also before releasing the WAL of the first 300 (already published: must not come back).
        let more = gen.spans(200, from: 300, bodies: true)
        let w = try WriteAheadLog.Writer(directory: dir.wal, firstSeq: 1)
        try w.append(first[...], firstSeq: 1)
        try w.append(more[...], firstSeq: 301)
        let reopened = try SpanStore(directory: dir, options: options())
        XCTAssertTrue(reopened.recoveryNotes.contains { $0.contains("replayed 200 spans") }, "\(reopened.recoveryNotes)")
        try reopened.sync()
        assertSameSet(try readAll(), first + more)
        let extra = gen.spans(10, from: 500)
        for s in extra { reopened.append(s) }
        try reopened.close()
        assertSameSet(try readAll(), first + more + extra)
    }

    /// Spans whose group commit and publish both failed (a full disk) are gone; a later WAL file
    /// is named past them. Opening again must not wait for them to be published.
    func testSyncDoesNotWaitForSpansThatWereNeverDurable() throws {
        var gen = TestSpans(seed: 23)
        let first = gen.spans(100)
        let store = try SpanStore(directory: dir, options: options())
        for s in first { store.append(s) }
        try store.close()
        for replayed in [false, true] {
            let base = UInt64(1_000 * (replayed ? 2 : 1))
            let more = gen.spans(replayed ? 50 : 0, from: Int(base))
            let w = try WriteAheadLog.Writer(directory: dir.wal, firstSeq: base)    // lost: 101 ..< base
            if replayed { try w.append(more[...], firstSeq: base) }
            _ = try WriteAheadLog.Writer(directory: dir.wal, firstSeq: base + 500)  // lost after them too
            let done = expectation(description: "open, sync and close return (replayed: \(replayed))")
            let box = ResultBox()
            let opts = options()
            Thread.detachNewThread { [dir] in
                box.result = Result {
                    let reopened = try SpanStore(directory: dir, options: opts)
                    try reopened.sync()
                    try reopened.close()
                }
                done.fulfill()
            }
            wait(for: [done], timeout: 30)
            XCTAssertNoThrow(try box.result?.get())
            XCTAssertEqual(try readAll().count, replayed ? 150 : 100)
        }
    }

    final class ResultBox: @unchecked Sendable { var result: Result<Void, Error>? }

    func testOrphanedFilesFromACrashAreRemoved() throws {
        var gen = TestSpans(seed: 23)
        let store = try SpanStore(directory: dir, options: options())
        for s in gen.spans(100) { store.append(s) }
        try store.close()
        try FileSystem.writeAtomically(dir.segment("seg-0000000099.plseg"), [1, 2, 3])
        try FileSystem.writeAtomically(dir.tmp + "/seg-0000000100.plseg", [1, 2, 3])
        let again = try SpanStore(directory: dir, options: options())
        XCTAssertFalse(FileSystem.exists(dir.segment("seg-0000000099.plseg")))
        XCTAssertTrue(FileSystem.list(dir.tmp).isEmpty)
        try again.close()
        XCTAssertEqual(try readAll().count, 100)
    }

    func testCompactionKeepsEveryLiveSpanExactlyOnce() throws {
        var gen = TestSpans(seed: 24)
        let store = try SpanStore(directory: dir, options: options {
            $0.compactionTargetRows = 2_500; $0.compactionMinSegments = 3
        })
        let all = try publishBatches(store, &gen, count: 10, size: 500, bodies: { $0 % 2 == 0 }).flatMap { $0 }
        XCTAssertEqual(try store.catalog.liveSegments().count, 10)
        store.maintainNow()
        let live = try store.catalog.liveSegments()
        XCTAssertLessThan(live.count, 10)
        XCTAssertGreaterThan(store.stats.compactions, 0)
        XCTAssertEqual(FileSystem.list(dir.segments).count, live.count, "replaced files deleted")
        assertSameSet(try readAll(), all)
        // Compacted segments are sorted by time.
        for s in live where s.level > 0 {
            let ts = try SegmentReader(path: dir.segment(s.file)).column("ts_start")
            guard case .int(let v) = ts.values else { return XCTFail() }
            XCTAssertEqual(v, v.sorted())
        }
        try store.close()
        let report = try StoreVerifier.verify(dir)
        XCTAssertTrue(report.failures.isEmpty, "\(report.failures)")
        XCTAssertEqual(report.rows, Int64(all.count))
    }

    func testCompactionRunsBesidePublishingAndTheChainStaysInOrder() throws {
        var gen = TestSpans(seed: 31)
        let store = try SpanStore(directory: dir, options: options {
            $0.cutInterval = 0.01; $0.cutRows = 400; $0.maintenanceInterval = 0.02
            $0.compactionMinSegments = 2; $0.compactionTargetRows = 4_000
        })
        var all: [Span] = []
        for round in 0..<30 {
            let spans = gen.spans(400, from: round * 400, bodies: round % 3 == 0)
            for s in spans { store.append(s) }
            all += spans
            usleep(20_000)
        }
        try store.sync()
        store.maintainNow()
        try store.close()
        XCTAssertGreaterThan(store.stats.compactions, 0)
        assertSameSet(try readAll(), all)
        let report = try StoreVerifier.verify(dir)
        XCTAssertEqual(report.failures.map(\.description), [])
        XCTAssertEqual(report.rows, Int64(all.count))
    }

    func testRetentionOfSpansAndBodiesIsSeparate() throws {
        let day: Int64 = 86_400_000_000
        let now = Timestamp.nowMicros()
        var gen = TestSpans(seed: 25)
        func batch(_ n: Int, age: Int64, from: Int) -> [Span] {
            (0..<n).map { i in
                var s = gen.span(index: from + i, baseMicros: now - age, bodies: false)
                s.requestBody = "req \(from + i)"; s.responseBody = "resp"
                return s
            }
        }
        let ancient = batch(100, age: 30 * day, from: 0)       // past span retention
        let old = batch(100, age: 3 * day, from: 100)          // past body retention only
        let fresh = batch(100, age: 0, from: 200)
        let straddle = batch(50, age: 30 * day, from: 300) + batch(50, age: 0, from: 350)
        let store = try SpanStore(directory: dir, options: options {
            $0.retentionMicros = 7 * day; $0.bodyRetentionMicros = day; $0.compaction = false
        })
        for group in [ancient, old, fresh, straddle] {
            for s in group { store.append(s) }
            try store.sync()
        }
        store.maintainNow()
        try store.close()
        let got = try readAll()
        var want = old + fresh + Array(straddle.suffix(50))
        for i in 0..<100 { want[i].requestBody = nil; want[i].responseBody = nil }   // old: bodies gone
        assertSameSet(got, want)
        XCTAssertTrue(try StoreVerifier.verify(dir).failures.isEmpty)
    }

    func testReadersHideExpiredRowsBeforeTheirSegmentIsRewritten() throws {
        let day: Int64 = 86_400_000_000
        let now = Timestamp.nowMicros()
        var gen = TestSpans(seed: 28)
        // 100 days of spans in one segment; a 95-day retention expires 5% of its range: too
        // little to rewrite, but readers must not return those rows.
        let spans = (0..<1000).map { i in gen.span(index: i, baseMicros: now - 100 * day + Int64(i) * (day / 10)) }
        let store = try SpanStore(directory: dir, options: options { $0.retentionMicros = 95 * day; $0.compaction = false })
        for s in spans { store.append(s) }
        try store.sync()
        store.maintainNow()
        XCTAssertEqual(try store.catalog.liveSegments().count, 1)
        XCTAssertEqual(try store.catalog.liveSegments()[0].rows, 1000, "not rewritten")
        try store.close()
        let cutoff = try StoreReader(directory: dir).catalog.retentionCutoff()
        assertSameSet(try readAll(includeBodies: false), spans.filter { $0.tsStart >= cutoff })
        XCTAssertLessThan(try readAll().count, 1000)
    }

    func testOversizedBodiesAreDroppedAndCounted() throws {
        var gen = TestSpans(seed: 29)
        var big = gen.span(index: 0)
        big.requestBody = String(repeating: "x", count: 2_000)
        big.responseBody = "small"
        let store = try SpanStore(directory: dir, options: options { $0.maxBodyBytes = 1_000 })
        store.append(big)
        try store.close()
        XCTAssertEqual(store.stats.bodiesDropped, 1)
        let back = try readAll()
        XCTAssertEqual(back.count, 1)
        XCTAssertNil(back[0].requestBody)
        XCTAssertEqual(back[0].responseBody, "small")
    }

    func testVerifyNamesTheCorruptSegmentAndTheRestStillReads() throws {
        var gen = TestSpans(seed: 26)
        let store = try SpanStore(directory: dir, options: options { $0.compaction = false })
        let batches = try publishBatches(store, &gen, count: 3, size: 1_000)
        try store.close()
        let segments = try StoreReader(directory: dir).catalog.liveSegments()
        XCTAssertEqual(segments.count, 3)
        let victim = dir.segment(segments[1].file)
        var bytes = try FileSystem.readAll(victim)
        bytes[bytes.count / 2] ^= 0x01
        try FileSystem.writeAtomically(victim, bytes)
        let report = try StoreVerifier.verify(dir)
        XCTAssertEqual(report.failures.map(\.file), [segments[1].file])
        let reader = try StoreReader(directory: dir)
        assertSameSet(try reader.spans(), batches[0] + batches[2])
        XCTAssertEqual(reader.problems.count, 1)
        XCTAssertTrue(reader.problems[0].contains(segments[1].file))
    }

    func testCompactionSetsACorruptSegmentAsideAndMergesTheRest() throws {
        var gen = TestSpans(seed: 30)
        let store = try SpanStore(directory: dir, options: options { $0.compactionMinSegments = 3 })
        let batches = try publishBatches(store, &gen, count: 4, size: 300)
        let segments = try store.catalog.liveSegments()
        XCTAssertEqual(segments.count, 4)
        let victim = dir.segment(segments[1].file)
        var bytes = try FileSystem.readAll(victim)
        bytes[SegmentFooter.headerSize + 10] ^= 0xFF         // inside the first page
        try FileSystem.writeAtomically(victim, bytes)
        store.maintainNow()
        XCTAssertEqual(store.stats.quarantined, 1)
        XCTAssertEqual(try store.catalog.liveSegments().count, 1, "the three healthy segments merged")
        XCTAssertTrue(FileSystem.exists(dir.quarantine + "/" + segments[1].file), "kept, not deleted")
        try store.close()
        assertSameSet(try readAll(), batches[0] + batches[2] + batches[3])
        let failures = try StoreVerifier.verify(dir).failures
        XCTAssertEqual(failures.map(\.file), [segments[1].file])
        XCTAssertTrue(failures[0].reason.contains("quarantine"), failures[0].reason)
    }

    func testVerifyDetectsRemovedSegmentsAndAlteredCatalogRows() throws {
        var gen = TestSpans(seed: 27)
        let store = try SpanStore(directory: dir, options: options { $0.compaction = false })
        _ = try publishBatches(store, &gen, count: 3, size: 100)
        try store.close()
        let segments = try StoreReader(directory: dir).catalog.liveSegments()
        try FileSystem.remove(dir.segment(segments[0].file))
        let db = try SQLiteDatabase(path: dir.catalog)
        try db.run("UPDATE segments SET rows = rows + 1 WHERE id = ?", [.int(segments[2].id)])
        let failures = try StoreVerifier.verify(dir).failures
        XCTAssertTrue(failures.contains { $0.file == segments[0].file && $0.reason.contains("missing") }, "\(failures)")
        XCTAssertTrue(failures.contains { $0.file == segments[2].file && $0.reason.contains("chain") }, "\(failures)")
        try db.run("DELETE FROM segments WHERE id = ?", [.int(segments[1].id)])
        XCTAssertTrue(try StoreVerifier.verify(dir).failures.contains { $0.reason.contains("hash chain broken") })
    }
}
