import Foundation
import PlumbCore

/// The publisher thread: turns each frozen memtable into a body file and a segment, publishes
/// them in one catalog transaction and releases the WAL behind them. Maintenance runs on its own
/// thread, so a long compaction never delays visibility.
extension SpanStore {
    func publisherLoop() {
        while true {
            cond.lock()
            while frozen.isEmpty && !walDone { cond.wait() }
            var item = frozen.first
            let finished = frozen.isEmpty && walDone
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

    /// Writes the bodies and the segment, then publishes both in one catalog transaction.
    func publish(_ spans: [Span], maxSeq: UInt64) throws {
        var refs: [BodyRef?]? = nil
        var bodyFile: NewBodyFile? = nil
        // Body file ids are the publisher's alone; an id left unused by a failure is harmless.
        let bodyID = nextBodyFileID
        let bodyName = BodyFile.fileName(id: bodyID)
        let bodyTmp = directory.tmp + "/" + bodyName
        if let written = try BodyFile.write(spans, id: bodyID, to: bodyTmp) {
            nextBodyFileID += 1
            refs = written.refs
            try FileSystem.rename(bodyTmp, directory.body(bodyName))
            try FileSystem.syncDirectory(directory.bodies)
            let ts = spans.map(\.tsStart)
            bodyFile = NewBodyFile(id: bodyID, file: bodyName, bytes: Int64(written.bytes), tsMin: ts.min()!, tsMax: ts.max()!)
        }
        let columns = SpanColumns.columns(of: spans, bodyRefs: refs)
        _ = try SegmentPublisher(directory: directory, catalog: catalog, rowGroupSize: options.rowGroupSize, sequencer: sequencer)
            .publish(columns: columns, walSeqMax: Int64(maxSeq), level: 0, bodyFile: bodyFile)
    }
}
