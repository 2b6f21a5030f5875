import Foundation
import PlumbCore

/// The publisher thread: turns each frozen memtable into a body file and a segment, publishes
/// them in one catalog transaction, releases the WAL behind them, and runs maintenance.
extension SpanStore {
    func publisherLoop() {
        var nextMaintenance = Self.now() + options.maintenanceInterval
        while true {
            cond.lock()
            while frozen.isEmpty && !walDone && !maintenanceWanted && Self.now() < nextMaintenance {
                _ = cond.wait(until: Date(timeIntervalSince1970: nextMaintenance))
            }
            var item = frozen.first
            let finished = frozen.isEmpty && walDone
            let maintainNow = maintenanceWanted && item == nil
            cond.unlock()
            if var current = item {
                item = nil
                do {
                    try publish(current.spans, maxSeq: current.maxSeq)
                    var spans = current.spans
                    current.spans = []
                    cond.lock()
                    frozen.removeFirst()
                    cond.unlock()
                    spans.removeAll(keepingCapacity: true)     // now unique: emptied in place
                    cond.lock()
                    if recycled.count < 2 { recycled.append(spans) }
                    publishFailures = 0; publishError = nil
                    publishedSeq = max(publishedSeq, current.maxSeq)
                    updateDurable()
                    counters.segmentsPublished += 1
                    cond.broadcast()
                    cond.unlock()
                    WriteAheadLog.release(directory: directory.wal, publishedSeq: current.maxSeq)
                    // Under a steady backlog, still compact and expire on schedule.
                    if Self.now() >= nextMaintenance {
                        runMaintenance()
                        nextMaintenance = Self.now() + options.maintenanceInterval
                    }
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
            if maintainNow || Self.now() >= nextMaintenance {
                runMaintenance()
                nextMaintenance = Self.now() + options.maintenanceInterval
                cond.lock(); maintenanceRuns += 1; maintenanceWanted = false; cond.broadcast(); cond.unlock()
            }
        }
        cond.lock(); publisherDone = true; cond.broadcast(); cond.unlock()
    }

    func runMaintenance() {
        do {
            try Maintenance(store: self).run()
        } catch {
            cond.lock(); counters.lastError = "maintenance: \(error)"; cond.unlock()
        }
    }

    /// Writes the bodies and the segment, then publishes both in one catalog transaction.
    func publish(_ spans: [Span], maxSeq: UInt64) throws {
        let id = try catalog.nextFileID()
        var refs: [BodyRef?]? = nil
        var bodyFile: NewBodyFile? = nil
        let bodyName = BodyFile.fileName(id: id)
        let bodyTmp = directory.tmp + "/" + bodyName
        if let written = try BodyFile.write(spans, id: id, to: bodyTmp) {
            refs = written.refs
            try FileSystem.rename(bodyTmp, directory.body(bodyName))
            try FileSystem.syncDirectory(directory.bodies)
            let ts = spans.map(\.tsStart)
            bodyFile = NewBodyFile(file: bodyName, bytes: Int64(written.bytes), tsMin: ts.min()!, tsMax: ts.max()!)
        }
        let columns = SpanColumns.columns(of: spans, bodyRefs: refs)
        _ = try SegmentPublisher(directory: directory, catalog: catalog, rowGroupSize: options.rowGroupSize)
            .publish(id: id, columns: columns, walSeqMax: Int64(maxSeq), level: 0, bodyFile: bodyFile)
    }
}
