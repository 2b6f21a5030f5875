import CPlumbSupport
import Foundation
import PlumbCore

/// The writing side of the trace store. Producers `append` spans without touching the disk (each
/// is encoded once, as its WAL record, into `SpanRecords`); a WAL thread group-commits them (one
/// write + fdatasync per batch) and a publisher thread turns the records into segment files,
/// publishes each through the catalog and releases the WAL behind it.
///
/// ```swift
/// let store = try SpanStore(directory: DataDirectory("./plumb-data"))
/// store.append(span)          // never blocks on I/O
/// try store.flush()           // everything appended so far is durable (WAL)
/// try store.sync()            // ... and published in segments, visible to readers
/// try store.close()
/// ```
public final class SpanStore: @unchecked Sendable {
    public let directory: DataDirectory
    public let options: StoreOptions
    let catalog: Catalog
    /// The maintenance thread's own connection (SQLite serializes the two writers).
    let maintenanceCatalog: Catalog
    let sequencer: PublishSequencer
    /// Owned by the publisher thread.
    var nextBodyFileID: Int64
    private let writerLock: WriterLock
    let wal: WriteAheadLog.Writer

    /// Guards the state below. Waited on by the WAL thread and by callers of flush, sync, close
    /// and maintainNow; the publisher and the maintainer sleep on their own bells.
    let cond = NSCondition()
    let publisherBell = Bell()
    let maintainerBell = Bell()
    // Guarded by `cond`:
    var queue: SpanQueue
    /// Emptied blocks for the queue and the memtable; the publisher returns them here.
    var pool: BlockPool
    var pendingFirstSeq: UInt64
    var nextSeq: UInt64
    var durableSeq: UInt64
    var publishedSeq: UInt64
    var publishWanted = false
    /// Set by `flush()`: the WAL thread commits at once instead of gathering more spans.
    var flushWanted = false
    var stopping = false
    var walDone = false
    var publisherDone = false
    var maintainerDone = false
    var frozen: [(records: Memtable, maxSeq: UInt64)] = []
    /// The WAL thread's: swapped with the queue's open block so neither is reallocated.
    var spare: SpanRecords
    var maintenanceWanted = false
    var maintenanceRuns = 0
    var walError: Error?
    var counters = StoreCounters()

    // Owned by the WAL thread:
    var memtable: Memtable
    var memtableMaxSeq: UInt64 = 0
    var memtableDeadline: Double = 0
    /// What the memtable's blocks have reserved, as the WAL thread last saw it (under `cond`, for `stats`).
    var memtableReservedBytes = 0
    /// After a failed WAL write the next frame starts a new file, so the log never has a gap.
    var walNeedsNewFile = false
    /// Guarded by `cond`: the highest seq written to the WAL, and a range whose group commit
    /// failed (those spans are durable only once published).
    var walWrittenSeq: UInt64 = 0
    var walGap: ClosedRange<UInt64>?
    /// Publish failures in a row (reset by a success); sync gives up after a few.
    var publishFailures = 0
    var publishError: Error?
    static let publishAttempts = 3
    /// The publisher's: kept between segments so their buffers stay warm.
    let rowGroupBuilders = RowGroupBuilders()
    /// Problems found while opening (torn WAL tail, orphaned files), for the caller to report.
    public private(set) var recoveryNotes: [String] = []
    /// Set when folders of the data directory were already there with modes wider than 0700.
    public private(set) var permissionWarning: String?

    public init(directory: DataDirectory, options: StoreOptions = StoreOptions()) throws {
        self.directory = directory
        self.options = options
        queue = SpanQueue(blockRows: options.blockRows, blockBytes: options.blockBytes)
        pool = BlockPool(limit: options.blockPoolLimit, blockRows: options.blockRows, blockBytes: options.blockBytes)
        spare = SpanRecords.block(rows: options.blockRows, bytes: options.blockBytes)
        memtable = Memtable(blockRows: options.blockRows, blockBytes: options.blockBytes)
        permissionWarning = try directory.create()
        writerLock = try WriterLock(directory: directory)
        catalog = try Catalog(path: directory.catalog)
        maintenanceCatalog = try Catalog(path: directory.catalog)
        recoveryNotes += try StoreRecovery.cleanUp(directory: directory, catalog: catalog)
        let firstID = try catalog.nextFileID()
        sequencer = PublishSequencer(first: firstID)
        nextBodyFileID = firstID
        let published = try catalog.publishedSeq()
        let replay = try WriteAheadLog.replay(directory: directory.wal, publishedSeq: published)
        recoveryNotes += replay.problems
        // Sequence numbers below `nextSeq` that replay did not find were never durable (their group
        // commit and their publish failed): nothing will publish them, so `sync` must not wait for them.
        publishedSeq = replay.spans.isEmpty ? max(published, replay.nextSeq - 1) : published
        durableSeq = replay.nextSeq - 1
        walWrittenSeq = durableSeq
        nextSeq = replay.nextSeq
        pendingFirstSeq = replay.nextSeq
        wal = try WriteAheadLog.Writer(directory: directory.wal, firstSeq: replay.nextSeq, compression: options.walCompression)
        if !replay.spans.isEmpty {
            memtable = Memtable(SpanRecords(replay.spans.lazy.map(\.span)), blockRows: options.blockRows, blockBytes: options.blockBytes)
            memtableMaxSeq = replay.nextSeq - 1      // the batch stands for the lost ones too
            memtableDeadline = Self.now()
            recoveryNotes.append("replayed \(replay.spans.count) spans from the write-ahead log")
        }
        // Named so that top -H, perf and gdb show which is which.
        Thread.detachNewThread { [self] in Thread.current.name = "plumb-wal"; walLoop() }
        Thread.detachNewThread { [self] in Thread.current.name = "plumb-publish"; publisherLoop() }
        Thread.detachNewThread { [self] in
            Thread.current.name = "plumb-maintain"
            // Compaction and retention can wait; a proxy's requests cannot.
            ThreadPriority.lower(by: 10)
            maintainerLoop()
        }
    }

    /// Spans per group commit of the queue's open block: a full block's worth.
    static let walChunk = SpanRecords.blockRows

    static func now() -> Double { Double(Timestamp.nowMicros()) / 1e6 }

    // MARK: Producers

    /// Queues a span. Returns false (and counts a drop) when the store is closed or the queue is
    /// over `maxPendingSpans`; never waits for the disk.
    @discardableResult
    public func append(_ span: Span) -> Bool {
        // Checked first: `capped` copies the span, which costs a retain and release per string.
        let over = isOversized(span)
        let capped = over ? capped(span) : nil
        cond.lock(); defer { cond.unlock() }
        guard !stopping, queue.count < options.maxPendingSpans else { counters.dropped += 1; return false }
        if queue.isEmpty { cond.broadcast() }
        if let capped { queue.append(capped, pool: &pool) } else { queue.append(span, pool: &pool) }
        nextSeq += 1
        counters.appended += 1
        if span.tsStart > counters.newestTs { counters.newestTs = span.tsStart }
        return true
    }

    /// Queues many spans, waiting while the queue is full (for importers, which must not drop).
    /// They are encoded before the lock is taken.
    public func appendWaiting(_ spans: [Span]) throws {
        let spans = spans.contains(where: isOversized) ? spans.map(capped) : spans
        try appendWaiting(SpanRecords(spans), newestTs: spans.lazy.map(\.tsStart).max() ?? .min)
    }

    /// Queues records already encoded (`plumb import`'s workers make them), waiting while the
    /// queue is full. `newestTs` is the latest `ts_start` among them; `bodiesDropped` counts
    /// the bodies left out over `maxBodyBytes` (`cappingBodies`).
    public func appendWaiting(_ records: SpanRecords, newestTs: Int64, bodiesDropped: Int = 0) throws {
        cond.lock(); defer { cond.unlock() }
        counters.bodiesDropped += bodiesDropped
        var i = 0
        while i < records.count {
            while queue.count >= options.maxPendingSpans && !stopping && walError == nil { cond.wait() }
            if let walError { throw walError }
            guard !stopping else { throw StoreClosed() }
            let n = min(records.count - i, options.maxPendingSpans - queue.count)
            if queue.isEmpty { cond.broadcast() }
            queue.append(records, i..<i + n, pool: &pool)
            nextSeq += UInt64(n)
            counters.appended += n
            i += n
        }
        if newestTs > counters.newestTs { counters.newestTs = newestTs }
    }

    /// The span as the store keeps it: bodies over `maxBodyBytes` left out (then `dropped`).
    public static func cappingBodies(_ s: Span, maxBodyBytes: Int) -> (span: Span, dropped: Bool) {
        let request = (s.requestBody?.utf8.count ?? 0) > maxBodyBytes, response = (s.responseBody?.utf8.count ?? 0) > maxBodyBytes
        guard request || response else { return (s, false) }
        var x = s
        if request { x.requestBody = nil }
        if response { x.responseBody = nil }
        return (x, true)
    }

    @inline(__always) private func isOversized(_ s: Span) -> Bool {
        (s.requestBody?.utf8.count ?? 0) > options.maxBodyBytes || (s.responseBody?.utf8.count ?? 0) > options.maxBodyBytes
    }

    /// Bodies over `maxBodyBytes` are not stored (the span is, with its byte counts).
    private func capped(_ s: Span) -> Span {
        let (x, dropped) = Self.cappingBodies(s, maxBodyBytes: options.maxBodyBytes)
        if dropped { cond.lock(); counters.bodiesDropped += 1; cond.unlock() }
        return x
    }

    public struct StoreClosed: Error, CustomStringConvertible {
        public var description: String { "the span store is closed" }
    }

    /// Waits until every span appended before the call is durable in the WAL.
    public func flush() throws {
        cond.lock(); defer { cond.unlock() }
        let target = nextSeq - 1
        flushWanted = true
        cond.broadcast()
        while durableSeq < target && walError == nil && !walDone {
            if publishFailures >= Self.publishAttempts, let publishError { throw publishError }
            cond.wait()
        }
        if durableSeq < target, let walError { throw walError }
    }

    /// Waits until every span appended before the call is published in a segment.
    public func sync() throws {
        cond.lock(); defer { cond.unlock() }
        let target = nextSeq - 1
        publishWanted = true
        cond.broadcast()
        while publishedSeq < target && !publisherDone {
            if publishFailures >= Self.publishAttempts, let publishError { throw publishError }
            cond.wait()
        }
        if publishedSeq < target, let publishError { throw publishError }
    }

    /// Publishes everything and stops the background threads. If publishing keeps failing (disk
    /// full), it stops anyway and throws: what reached the WAL is replayed on the next open.
    public func close() throws {
        var failure: Error?
        do { try sync() } catch { failure = error }
        cond.lock()
        stopping = true
        cond.broadcast()
        publisherBell.ring()
        maintainerBell.ring()
        while !walDone || !publisherDone || !maintainerDone { cond.wait() }
        cond.unlock()
        writerLock.release()
        if let failure { throw failure }
    }

    /// Runs compaction and retention now, on the publisher thread, and waits for them.
    public func maintainNow() {
        cond.lock(); defer { cond.unlock() }
        let target = maintenanceRuns + 1
        maintenanceWanted = true
        maintainerBell.ring()
        while maintenanceRuns < target && !maintainerDone { cond.wait() }
    }

    public var stats: StoreCounters {
        cond.lock(); defer { cond.unlock() }
        var c = counters
        c.pending = queue.count
        // The memtable is the WAL thread's: its size as of its last commit.
        c.bufferBytes = queue.reservedBytes + pool.reservedBytes + spare.reservedBytes + memtableReservedBytes
            + frozen.reduce(0) { $0 + $1.records.reservedBytes }
        c.durableSeq = durableSeq
        c.publishedSeq = publishedSeq
        c.unpublished = nextSeq > publishedSeq + 1 ? Int64(nextSeq - 1 - publishedSeq) : 0
        return c
    }

    /// Durable means in the WAL, or published: never past a failed group commit that is not
    /// yet published. Called with `cond` held.
    func updateDurable() {
        if let gap = walGap {
            if publishedSeq >= gap.upperBound { walGap = nil } else {
                durableSeq = max(publishedSeq, min(walWrittenSeq, gap.lowerBound - 1))
                return
            }
        }
        durableSeq = max(walWrittenSeq, publishedSeq)
    }

}

/// What a store has done, for `/_plumb/metrics` and tests.
public struct StoreCounters: Sendable {
    public var appended = 0
    public var dropped = 0
    public var pending = 0
    public var walBatches = 0
    /// Group commits written with LZ4 on (the disk was the bottleneck).
    public var walCompressedBatches = 0
    public var walErrors = 0
    public var segmentsPublished = 0
    public var publishErrors = 0
    public var compactions = 0
    public var bodiesDropped = 0
    public var quarantined = 0
    public var durableSeq: UInt64 = 0
    public var publishedSeq: UInt64 = 0
    /// Spans taken and not yet in a published segment.
    public var unpublished: Int64 = 0
    /// The newest ts_start taken (microseconds), for exporters' lag.
    public var newestTs: Int64 = 0
    /// Bytes the span blocks hold (queue, memtables, spare and pooled blocks): the store's buffers.
    public var bufferBytes = 0
    public var lastError: String?
}
