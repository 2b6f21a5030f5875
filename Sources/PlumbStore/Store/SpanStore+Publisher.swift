import Foundation
import PlumbCore

/// The publisher thread: turns each frozen memtable into a body file and a segment, publishes
/// them in one catalog transaction and releases the WAL behind them. Maintenance runs on its own
/// thread, so a long compaction never delays visibility.
extension SpanStore {
    func publisherLoop() {
        while true {
            cond.lock()
            var item = frozen.first
            let finished = frozen.isEmpty && walDone
            cond.unlock()
            if item == nil && !finished { publisherBell.wait(); continue }
            if var current = item {
                item = nil
                do {
                    try publish(current.records, maxSeq: current.maxSeq)
                    var records = current.records
                    current.records = Memtable()
                    cond.lock()
                    frozen.removeFirst()
                    cond.unlock()
                    var blocks = records.removeBlocks()     // now the only reference: emptied in place by the pool
                    cond.lock()
                    for i in blocks.indices { pool.put(&blocks[i]) }
                    publishFailures = 0; publishError = nil
                    publishedSeq = max(publishedSeq, current.maxSeq)
                    updateDurable()
                    counters.segmentsPublished += 1
                    cond.broadcast()
                    cond.unlock()
                    WriteAheadLog.release(directory: directory.wal, publishedSeq: current.maxSeq)
                } catch {
                    cond.lock()
                    counters.publishErrors += 1; counters.lastError = "\(error)"
                    publishFailures += 1; publishError = error
                    let giveUp = stopping && publishFailures >= Self.publishAttempts
                    cond.broadcast()
                    cond.unlock()
                    if giveUp { break }
                    Thread.sleep(forTimeInterval: 1)   // disk full or similar: retry; the WAL still holds the spans
                }
                continue
            }
            if finished { break }
        }
        cond.lock(); publisherDone = true; cond.broadcast(); cond.unlock()
    }

    /// Writes the segment and its bodies from the records, row groups built two at a time and
    /// written in order, then publishes both in one catalog transaction.
    func publish(_ records: Memtable, maxSeq: UInt64) throws {
        // Body file ids are the publisher's alone; an id left unused by a failure is harmless.
        let bodyID = nextBodyFileID
        let bodyName = BodyFile.fileName(id: bodyID)
        let bodies = BodyFile.Writer(id: bodyID, path: directory.tmp + "/" + bodyName)
        let publisher = SegmentPublisher(directory: directory, catalog: catalog, rowGroupSize: options.rowGroupSize, sequencer: sequencer)
        let segmentTmp = publisher.temporaryPath()
        do {
            let segment = try SegmentWriter(path: segmentTmp)
            let size = options.rowGroupSize
            let groups = stride(from: 0, to: records.count, by: size).map { $0..<min(records.count, $0 + size) }
            let turns = InTurn(), jobs = ParallelJobs(), builders = rowGroupBuilders
            for (k, rows) in groups.enumerated() {
                _ = jobs.add {
                    let b = builders.take()
                    defer { builders.put(b) }
                    do {
                        b.value.reset()
                        for piece in records.pieces(of: rows) {
                            try records.blocks[piece.block].encoded.withValues { v in try b.value.add(v, rows: piece.rows) }
                        }
                        var pages = b.value.dataPages()
                        let filter = b.value.idFilter()
                        b.value.bodies.finish()
                        try turns.step(k) {
                            pages += b.value.bodyPages(file: bodyID, base: try bodies.append(b.value.bodies))
                            try segment.add(rowGroup: pages, rows: rows.count, idFilter: filter)
                        }
                    } catch {
                        turns.abandon(error)
                        throw error
                    }
                }
            }
            try jobs.run(lanes: 2)
            let written = try segment.finish()
            var bodyFile: NewBodyFile? = nil
            if let bytes = try bodies.finish() {
                nextBodyFileID += 1
                try FileSystem.rename(bodies.path, directory.body(bodyName))
                try FileSystem.syncDirectory(directory.bodies)
                guard case .int(let tsMin, let tsMax) = written.footer.fileZones[SegmentSchema.index(of: "ts_start")!].bounds
                else { throw FormatError("segment without timestamps") }
                bodyFile = NewBodyFile(id: bodyID, file: bodyName, bytes: Int64(bytes), tsMin: tsMin, tsMax: tsMax)
            }
            _ = try publisher.publish(written, at: segmentTmp, walSeqMax: Int64(maxSeq), level: 0, bodyFile: bodyFile)
        } catch {
            // A retry writes them afresh; a full disk must not fill up with attempts.
            try? FileSystem.remove(segmentTmp)
            try? FileSystem.remove(bodies.path)
            throw error
        }
    }
}

/// The publisher's row group builders, one per lane, kept so their buffers stay warm.
final class RowGroupBuilders: @unchecked Sendable {
    final class Builder: @unchecked Sendable { var value = RowGroupBuilder() }
    private let lock = NSLock()
    private var free: [Builder] = []

    func take() -> Builder {
        lock.lock(); defer { lock.unlock() }
        return free.popLast() ?? Builder()
    }

    func put(_ b: Builder) {
        lock.lock(); free.append(b); lock.unlock()
    }
}
