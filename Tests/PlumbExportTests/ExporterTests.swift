import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
import XCTest
@testable import PlumbExport

/// A sink that records what it is sent and answers from a script (then accepts).
final class ScriptedSink: SpanSink, @unchecked Sendable {
    let name: String
    let includeBodies: Bool
    let maxBatchSpans: Int
    private let lock = NSLock()
    private var script: [SendOutcome]
    private(set) var attempts: [ExportBatch] = []
    private(set) var accepted: [ExportBatch] = []

    init(name: String = "test", maxBatchSpans: Int = 100, includeBodies: Bool = false, script: [SendOutcome] = []) {
        self.name = name; self.maxBatchSpans = maxBatchSpans; self.includeBodies = includeBodies; self.script = script
    }

    func prepare() throws {}

    func send(_ batch: ExportBatch) -> SendOutcome {
        lock.lock(); defer { lock.unlock() }
        attempts.append(batch)
        let outcome = script.isEmpty ? .accepted : script.removeFirst()
        if outcome == .accepted { accepted.append(batch) }
        return outcome
    }

    var acceptedIDs: [String] { lock.lock(); defer { lock.unlock() }; return accepted.flatMap { $0.spans.map(\.spanID) } }
    var attemptCount: Int { lock.lock(); defer { lock.unlock() }; return attempts.count }
}

final class ExporterTests: XCTestCase {
    var dir: DataDirectory!

    override func setUp() { dir = DataDirectory(makeTempDirectory("plumb-export")) }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir.path) }

    func fastExporter(_ sink: SpanSink) throws -> Exporter {
        let e = try Exporter(sink: sink, directory: dir, report: { _ in })
        e.pollInterval = 0.01
        e.policy = RetryPolicy(initial: 0.01, maximum: 0.05, maxRejections: 3)
        return e
    }

    func waitUntil(_ what: String, timeout: Double = 20, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertTrue(condition(), "timed out waiting for \(what)")
    }

    /// Spans stored before the exporter was first configured are not its business (a backfill
    /// sends them); every span stored after is sent exactly once, in store order, across
    /// segments and row groups, and a second exporter on the same cursor resumes after it.
    func testEverySpanAfterTheStartIsSentOnceInOrderAndARestartResumes() throws {
        var gen = TestSpans(seed: 7)
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 64))
        try store.appendWaiting(gen.spans(50, from: 0)); try store.sync()
        let sink = ScriptedSink(maxBatchSpans: 30)
        let first = try fastExporter(sink)          // cursor starts after these 50
        first.start()
        var expected: [String] = []
        for round in 0..<3 {
            let spans = gen.spans(150, from: 100 + round * 150)
            expected += spans.map(\.spanID)
            try store.appendWaiting(spans); try store.sync()
        }
        waitUntil("450 spans") { sink.acceptedIDs.count == 450 }
        first.stop()
        XCTAssertEqual(sink.acceptedIDs, expected)
        // Batches stay inside a segment and a row group, at most 30 spans each.
        XCTAssertTrue(sink.accepted.allSatisfy { $0.spans.count <= 30 && $0.rows.count == $0.spans.count })
        XCTAssertEqual(first.stats.spansExported, 450)

        let more = gen.spans(40, from: 1_000)
        try store.appendWaiting(more); try store.sync()
        let sink2 = ScriptedSink(maxBatchSpans: 30)
        let second = try fastExporter(sink2)
        second.start()
        waitUntil("40 more") { sink2.acceptedIDs.count == 40 }
        Thread.sleep(forTimeInterval: 0.1)
        second.stop()
        XCTAssertEqual(sink2.acceptedIDs, more.map(\.spanID), "the restart sent only what the first had not")
        XCTAssertEqual(try Catalog(path: dir.catalog, readOnly: true).exportCursor("test")?.spansAcked, 490)
        try store.close()
    }

    /// Retryable failures send the same batch again until it is taken; rejections skip it after
    /// three tries and the spans behind it still go.
    func testRetriesThenSkipsARejectedBatch() throws {
        var gen = TestSpans(seed: 8)
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 1_000))
        let sink = ScriptedSink(maxBatchSpans: 10, script: [
            .retry(after: nil, reason: "HTTP 503"), .retry(after: 0.02, reason: "HTTP 429"),
            .accepted,
            .rejected(reason: "HTTP 400: bad"), .rejected(reason: "HTTP 400: bad"), .rejected(reason: "HTTP 400: bad"),
        ])
        let e = try fastExporter(sink)
        e.start()
        let spans = gen.spans(30, from: 0)
        try store.appendWaiting(spans); try store.sync()
        waitUntil("two batches accepted") { sink.acceptedIDs.count == 20 }
        e.stop()
        XCTAssertEqual(sink.acceptedIDs, Array(spans[0..<10].map(\.spanID) + spans[20..<30].map(\.spanID)))
        XCTAssertEqual(sink.attemptCount, 7)
        let s = e.stats
        XCTAssertEqual(s.batchesFailed, 5)
        XCTAssertEqual(s.batchesSkipped, 1)
        XCTAssertEqual(s.spansSkipped, 10)
        XCTAssertEqual(s.spansExported, 20)
        XCTAssertNil(s.lastError)
        try store.close()
    }

    /// Compaction and retention leave alone what an exporter has not sent; once it is sent they
    /// proceed. An exporter past export_max_lag no longer holds them back, and counts what went.
    func testCompactionAndRetentionWaitForTheExporterUpToMaxLag() throws {
        var gen = TestSpans(seed: 9)
        var options = StoreOptions.manual(rowGroupSize: 1_000)
        options.compaction = true
        options.compactionMinSegments = 2
        let store = try SpanStore(directory: dir, options: options)
        let blocked = ScriptedSink(name: "slow", maxBatchSpans: 1_000, script: Array(repeating: .retry(after: nil, reason: "down"), count: 10_000))
        let e = try fastExporter(blocked)
        e.policy = RetryPolicy(initial: 0.05, maximum: 0.05)
        e.start()
        for k in 0..<4 { try store.appendWaiting(gen.spans(20, from: k * 20)); try store.sync() }
        store.maintainNow()
        let catalog = try Catalog(path: dir.catalog, readOnly: true)
        XCTAssertEqual(try catalog.liveSegments().count, 4, "nothing compacted while unsent")
        e.stop()

        // The exporter catches up: now compaction merges.
        let ok = ScriptedSink(name: "slow", maxBatchSpans: 1_000)
        let e2 = try fastExporter(ok)
        e2.start()
        waitUntil("80 sent") { ok.acceptedIDs.count == 80 }
        e2.stop()
        store.maintainNow()
        XCTAssertEqual(try catalog.liveSegments().count, 1, "compacted once sent")
        try store.close()

        // Beyond max lag: retention deletes unsent spans, and the exporter counts them lost.
        var old = StoreOptions.manual(rowGroupSize: 1_000)
        old.retentionMicros = 1_000_000       // a second: every test span is older
        old.exportMaxLagMicros = 1            // anything unsent is past it at once
        let store2 = try SpanStore(directory: dir, options: old)
        try store2.appendWaiting(gen.spans(20, from: 500)); try store2.sync()
        Thread.sleep(forTimeInterval: 0.01)
        store2.maintainNow()
        XCTAssertEqual(try catalog.liveSegments().count, 0, "retention went ahead past max lag")
        try store2.appendWaiting([gen.span(index: 900, baseMicros: Timestamp.nowMicros())]); try store2.sync()
        let late = ScriptedSink(name: "slow", maxBatchSpans: 1_000)
        let e3 = try fastExporter(late)
        e3.start()
        waitUntil("the new span") { late.acceptedIDs.count == 1 }
        e3.stop()
        XCTAssertEqual(e3.stats.spansLost, 20)
        try store2.close()
    }

    /// The lag in seconds is how far behind the exporter is, not how long the traffic paused:
    /// after an idle hour, new spans waiting one batch are a second or two behind.
    func testLagAfterAnIdleHourIsTheWaitingSpansNotTheHour() throws {
        var gen = TestSpans(seed: 10)
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 1_000))
        let sink = ScriptedSink(maxBatchSpans: 100, script: [.accepted] + Array(repeating: .retry(after: nil, reason: "down"), count: 10_000))
        let e = try fastExporter(sink)
        e.policy = RetryPolicy(initial: 0.05, maximum: 0.05)
        e.storeState = { let s = store.stats; return (s.unpublished, s.newestTs) }
        e.start()
        let base: Int64 = 1_795_255_200_000_000
        try store.appendWaiting((0..<20).map { gen.span(index: $0, baseMicros: base) }); try store.sync()
        waitUntil("the first batch") { sink.acceptedIDs.count == 20 }
        let later = base + 3_600_000_000
        try store.appendWaiting((0..<10).map { gen.span(index: $0 * 200, baseMicros: later) }); try store.sync()
        // Published (sync returned): the lag is the time the 10 waiting spans cover, about 1.8 s.
        waitUntil("the new spans' lag") { e.stats.lagSpans == 10 && e.stats.lagSeconds > 1.5 }
        Thread.sleep(forTimeInterval: 0.1)
        let lag = e.stats.lagSeconds
        e.stop()
        XCTAssertLessThan(lag, 3, "not the idle hour")
        try store.close()
    }

    /// ClickHouse drops an insert whose token it has seen: the token names the spans, so the
    /// same spans give the same token and other spans of the same rows never share one.
    func testBatchTokensNameTheirSpans() {
        var gen = TestSpans(seed: 11)
        let a = gen.spans(10), b = gen.spans(10, from: 10)
        let batch = ExportBatch(spans: a, installation: "i", segmentID: 3, rows: 0..<10)
        XCTAssertEqual(batch.token, ExportBatch(spans: a, installation: "other", segmentID: 9, rows: 5..<15).token)
        XCTAssertNotEqual(batch.token, ExportBatch(spans: b, installation: "i", segmentID: 3, rows: 0..<10).token)
        XCTAssertNotEqual(batch.token, ExportBatch(spans: Array(a.dropLast()), installation: "i", segmentID: 3, rows: 0..<10).token)
    }

    /// An exporter no longer configured stops holding compaction back.
    func testRetiredExportersHoldNothingBack() throws {
        let catalog = try Catalog(path: DataDirectory(dir.path).catalog)
        _ = try catalog.newExportCursor("a")
        _ = try catalog.newExportCursor("b")
        XCTAssertEqual(try catalog.activeExportCursors().map(\.exporter), ["a", "b"])
        try catalog.retireExporters(except: ["b"])
        XCTAssertEqual(try catalog.activeExportCursors().map(\.exporter), ["b"])
        _ = try catalog.newExportCursor("a")
        XCTAssertEqual(try catalog.activeExportCursors().map(\.exporter), ["a", "b"], "configured again: active again")
    }

    func testRetryAfterAndHTTPClassification() {
        XCTAssertEqual(SendOutcome.http(status: 200, retryAfter: nil, body: ""), .accepted)
        XCTAssertEqual(SendOutcome.http(status: 429, retryAfter: "7", body: "slow"), .retry(after: 7, reason: "HTTP 429: slow"))
        XCTAssertEqual(SendOutcome.http(status: 503, retryAfter: nil, body: ""), .retry(after: nil, reason: "HTTP 503"))
        XCTAssertEqual(SendOutcome.http(status: 400, retryAfter: nil, body: "bad\nspan"), .rejected(reason: "HTTP 400: bad span"))
        XCTAssertEqual(SendOutcome.http(status: 408, retryAfter: nil, body: ""), .retry(after: nil, reason: "HTTP 408"))
        // A wrong key, path or a redirect is the operator's to fix: the backlog waits for it.
        for status in [301, 401, 403, 404, 407] {
            XCTAssertEqual(SendOutcome.http(status: status, retryAfter: nil, body: ""), .retry(after: nil, reason: "HTTP \(status)"))
        }
        XCTAssertEqual(SendOutcome.http(status: 422, retryAfter: nil, body: "x"), .rejected(reason: "HTTP 422: x"))
        let inTen = Date().addingTimeInterval(10)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let seconds = SendOutcome.retryAfterSeconds(f.string(from: inTen)) ?? -1
        XCTAssertTrue((8...10.5).contains(seconds), "HTTP-date Retry-After: \(seconds)")
        XCTAssertEqual(SendOutcome.retryAfterSeconds("999999"), 3600)
        XCTAssertNil(SendOutcome.retryAfterSeconds("soon"))
        let p = RetryPolicy(initial: 0.5, maximum: 30)
        for _ in 0..<100 {
            XCTAssertTrue((1...2).contains(p.delay(attempt: 2, retryAfter: nil)))
            XCTAssertTrue((15...30).contains(p.delay(attempt: 12, retryAfter: nil)))
            XCTAssertTrue((7...7.5).contains(p.delay(attempt: 0, retryAfter: 7)))
        }
    }
}
