import Foundation
import PlumbCore

/// The WAL thread: drains the producers' queue in group commits (one write and one fdatasync
/// each), moves the spans into the memtable, and cuts the memtable for the publisher.
extension SpanStore {
    func walLoop() {
        while true {
            cond.lock()
            while pending.isEmpty && !stopping && !(publishWanted && !memtable.isEmpty)
                    && !(!memtable.isEmpty && Self.now() >= memtableDeadline) {
                let wake = memtable.isEmpty ? Self.now() + 1 : memtableDeadline
                _ = cond.wait(until: Date(timeIntervalSince1970: wake))
            }
            if options.walCommitDelay > 0 && !pending.isEmpty && pending.count < Self.walChunk / 16
                && !stopping && !publishWanted && !flushWanted {
                _ = cond.wait(until: Date(timeIntervalSinceNow: options.walCommitDelay))
            }
            flushWanted = false
            swap(&pending, &spare)
            let first = pendingFirstSeq
            pendingFirstSeq = nextSeq
            let stop = stopping
            let wantPublish = publishWanted
            if !spare.isEmpty { cond.broadcast() }   // room in the queue for waiting importers
            cond.unlock()

            // Group commits of at most `walChunk` spans keep the memtable, and so the publisher,
            // fed steadily while a large backlog drains.
            var chunkStart = 0
            while chunkStart < spare.count {
                let chunkEnd = min(spare.count, chunkStart + Self.walChunk)
                let chunk = chunkStart..<chunkEnd
                let chunkFirst = first + UInt64(chunkStart)
                var failure: Error?
                do {
                    if walNeedsNewFile { try wal.rotate(firstSeq: chunkFirst); walNeedsNewFile = false }
                    try wal.append(spare, chunk, firstSeq: chunkFirst)
                } catch {
                    failure = error
                    walNeedsNewFile = true
                }
                cond.lock()
                let chunkLast = chunkFirst + UInt64(chunk.count) - 1
                if let failure {
                    // Not durable: the spans stay in the memtable and become durable when published.
                    walError = failure; counters.walErrors += 1; counters.lastError = "write-ahead log: \(failure)"
                    walGap = (walGap?.lowerBound ?? chunkFirst)...chunkLast
                } else {
                    walError = nil
                    walWrittenSeq = chunkLast
                }
                updateDurable()
                counters.walBatches += 1
                counters.walCompressedBatches = wal.compressedCommits
                cond.broadcast()
                cond.unlock()
                if memtable.isEmpty { memtableDeadline = Self.now() + options.cutInterval }
                memtable.append(spare, chunk)
                memtableMaxSeq = chunkFirst + UInt64(chunk.count) - 1
                chunkStart = chunkEnd
                if memtable.count >= options.cutRows || publisherIsIdle() { cut() }
            }
            spare.removeAll()
            if !memtable.isEmpty && (memtable.count >= options.cutRows || Self.now() >= memtableDeadline || wantPublish || stop) {
                cut()
            }
            cond.lock()
            if wantPublish && pending.isEmpty && memtable.isEmpty { publishWanted = false }
            if stopping && pending.isEmpty && memtable.isEmpty {
                wal.finish()
                walDone = true
                cond.broadcast()
                cond.unlock()
                publisherBell.ring()
                return
            }
            cond.unlock()
        }
    }

    /// Whether the publisher waits for work while the memtable holds half of `cutRows` and a row
    /// group for each of its lanes: cutting then keeps both cores busy (and spans become visible
    /// sooner) instead of letting the publisher idle until `cutRows`; compaction merges the
    /// smaller segments.
    private func publisherIsIdle() -> Bool {
        guard memtable.count >= max(2 * options.rowGroupSize, options.cutRows / 2) else { return false }
        cond.lock(); defer { cond.unlock() }
        return frozen.isEmpty
    }

    /// Freezes the memtable for the publisher and starts a new WAL file after it.
    func cut() {
        do { try wal.rotate(firstSeq: memtableMaxSeq + 1); walNeedsNewFile = false } catch {
            walNeedsNewFile = true
            cond.lock(); walError = error; counters.walErrors += 1; cond.unlock()
        }
        cond.lock()
        frozen.append((memtable, memtableMaxSeq))
        memtable = recycled.popLast() ?? SpanRecords()
        cond.unlock()
        publisherBell.ring()
    }
}
