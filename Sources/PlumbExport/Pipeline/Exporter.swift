import Foundation
import PlumbCore
import PlumbStore

/// Ships every stored span to one sink, on a thread of its own: reads batches after its cursor
/// (`SpanFeed`), sends them, and saves the cursor in the catalog once the receiver has
/// acknowledged a batch. A restart or a kill -9 resends at most the batch that was in flight;
/// the proxy never waits on it.
///
/// ```swift
/// let exporter = try Exporter(sink: OTLPSink(settings: otlp, ...), directory: dir, report: { print($0) })
/// exporter.start()
/// exporter.stats.lagSeconds
/// exporter.stop()
/// ```
public final class Exporter: @unchecked Sendable {
    public let sink: SpanSink
    public let directory: DataDirectory
    public var policy = RetryPolicy()
    /// Compaction and retention stop waiting for an exporter this far behind (the store's
    /// `exportMaxLagMicros`); the exporter warns once when it gets there.
    public var maxLagMicros: Int64? = 86_400_000_000
    /// How often the catalog is asked for new segments when there is nothing to send.
    public var pollInterval = 0.1
    /// The running store's spans not yet in a segment and the newest ts_start it took, for the
    /// lag figures (nil: a backfill with no store).
    public var storeState: (@Sendable () -> (unpublished: Int64, newestTs: Int64))?
    private let report: @Sendable (String) -> Void
    private let catalog: Catalog
    private let cond = NSCondition()
    private var stopping = false
    private var running = false
    private var current: ExportStats

    public init(sink: SpanSink, directory: DataDirectory, report: @escaping @Sendable (String) -> Void) throws {
        self.sink = sink
        self.directory = directory
        self.report = report
        catalog = try Catalog(path: directory.catalog)
        current = ExportStats(name: sink.name)
        _ = try catalog.newExportCursor(sink.name)
    }

    public var stats: ExportStats {
        cond.lock(); defer { cond.unlock() }
        return current
    }

    public func start() {
        // The lag is known from the first moment (a health check right after a restart must not
        // read an empty backlog).
        if let c = try? catalog.exportCursor(sink.name) { _ = try? refreshLag(c) }
        cond.lock(); running = true; cond.unlock()
        Thread.detachNewThread { [self] in
            Thread.current.name = "plumb-export-\(sink.name)"
            loop()
            cond.lock(); running = false; cond.broadcast(); cond.unlock()
        }
    }

    /// Asks the thread to stop without waiting (several exporters stop together).
    public func requestStop() {
        cond.lock(); stopping = true; cond.broadcast(); cond.unlock()
    }

    /// Asks the thread to stop and waits up to `timeout` seconds (a send in flight may take
    /// that long; its batch is sent again on the next start).
    public func stop(timeout: Double = 5) {
        cond.lock(); defer { cond.unlock() }
        stopping = true
        cond.broadcast()
        let deadline = Date().addingTimeInterval(timeout)
        while running && cond.wait(until: deadline) {}
    }

    /// Sleeps up to `seconds`; false when asked to stop.
    private func pause(_ seconds: Double) -> Bool {
        cond.lock(); defer { cond.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while !stopping && cond.wait(until: deadline) {}
        return !stopping
    }

    private var isStopping: Bool { cond.lock(); defer { cond.unlock() }; return stopping }

    private func update(_ change: (inout ExportStats) -> Void) {
        cond.lock(); change(&current); cond.unlock()
    }

    private func say(_ message: String) { report("exporter \(sink.name): \(message)") }

    func loop() {
        var prepared = false
        var prepareFailures = 0
        var feed: SpanFeed?
        var warnedBehind = false
        // Kept here, saved after each batch: a save that fails (a full disk) must not make the
        // same batch go again at once, over and over; a restart resumes from the last saved one.
        var current: ExportCursor?
        while !isStopping {
            do {
                if !prepared {
                    do {
                        try sink.prepare()
                        prepared = true
                        if prepareFailures > 0 { say("ready after \(prepareFailures) failed attempts") }
                    } catch {
                        if prepareFailures == 0 { say("not ready: \(error); trying again") }
                        update { $0.lastError = "\(error)" }
                        prepareFailures += 1
                        guard pause(policy.delay(attempt: prepareFailures, retryAfter: nil)) else { return }
                        continue
                    }
                }
                if feed == nil {
                    feed = SpanFeed(directory: directory, catalog: catalog, includeBodies: sink.includeBodies,
                                    maxBatch: sink.maxBatchSpans, installation: try catalog.installationID())
                }
                let cursor = try current ?? catalog.exportCursor(sink.name) ?? catalog.newExportCursor(sink.name)
                current = cursor
                let behind = try refreshLag(cursor)
                if let maxLagMicros, behind > maxLagMicros, !warnedBehind {
                    warnedBehind = true
                    say("more than export_max_lag (\(maxLagMicros / 3_600_000_000)h) behind and not moving: compaction and retention no longer wait for it, so spans it has not sent may be merged or deleted (counted as lost; plumb export --since sends stored ones)")
                } else if behind == 0 {
                    warnedBehind = false
                }
                guard let next = try feed!.next(after: cursor) else {
                    guard pause(pollInterval) else { return }
                    continue
                }
                if next.lost > 0 {
                    say("\(next.lost) spans went (retention, compaction or a damaged segment) before they were sent")
                    update { $0.spansLost += next.lost }
                }
                if next.batch.spans.isEmpty {
                    // Only skipped past what went: remember where.
                    current = next.cursor
                    if !save(next.cursor) { guard pause(1) else { return } }
                    continue
                }
                guard let after = deliver(next) else { return }
                current = after
                if !save(after) { guard pause(1) else { return } }
            } catch {
                // The catalog was busy or a segment could not be read: say so and try again.
                say("\(error)")
                update { $0.lastError = "\(error)" }
                feed = nil
                current = nil
                guard pause(1) else { return }
            }
        }
    }

    /// Saves the cursor; false (said) when the catalog cannot take it: the batches since the
    /// last save go again after a restart (receivers deduplicate).
    private func save(_ cursor: ExportCursor) -> Bool {
        do { try catalog.saveExportCursor(sink.name, cursor); return true } catch {
            say("cannot save the cursor: \(error)")
            update { $0.lastError = "cannot save the cursor: \(error)" }
            return false
        }
    }

    /// Sends one batch until it is acknowledged or skipped; the cursor past it, or nil when
    /// asked to stop first.
    private func deliver(_ next: SpanFeed.Next) -> ExportCursor? {
        let delivery = Delivery(sink: sink, policy: policy, maxRetries: nil, pause: pause, say: say) { reason in
            self.update { $0.batchesFailed += 1; $0.lastError = reason; $0.retrying = true }
        }
        var cursor = next.cursor
        switch delivery.send(next.batch) {
        case .stopped, .gaveUp: return nil
        case .accepted:
            update {
                $0.spansExported += Int64(next.batch.spans.count); $0.batchesExported += 1
                $0.lastError = nil; $0.retrying = false
            }
        case .skipped:
            cursor.spansAcked -= Int64(next.batch.spans.count)
            update { $0.batchesSkipped += 1; $0.spansSkipped += Int64(next.batch.spans.count); $0.retrying = false }
        }
        return cursor
    }

    /// Updates the lag figures; returns how long (µs) the oldest unsent segment has waited.
    private func refreshLag(_ cursor: ExportCursor) throws -> Int64 {
        let pending = try catalog.pendingRows(after: cursor)
        let store = storeState?() ?? (unpublished: 0, newestTs: 0)
        let spans = pending.rows + store.unpublished
        let newest = max(store.newestTs, pending.tsMax ?? 0)
        var seconds = 0.0
        if spans > 0 {
            // The newest stored span's ts_start minus the newest acknowledged one's, but never
            // more than the time the waiting spans cover (after an idle hour the first new span
            // is not an hour behind): from the first unsent segment's earliest span, or, when
            // only spans not yet in a segment wait, at most one cut interval (1 s).
            let oldestWaiting = pending.rows > 0 ? (pending.tsMin ?? newest) : newest - 1_000_000
            seconds = max(0, Double(newest - max(cursor.ackedTs, min(oldestWaiting, newest))) / 1e6)
        }
        update { $0.lagSpans = spans; $0.lagSeconds = seconds }
        guard let oldest = pending.oldestCreatedAt, pending.rows > 0 else { return 0 }
        return max(0, Timestamp.nowMicros() - oldest)
    }
}
