import Foundation
import PlumbCore

/// The WAL thread: drains the producers' queue in group commits (one write and one fdatasync
/// each), moves the spans into the memtable, and cuts the memtable for the publisher.
extension SpanStore {
    func walLoop() {
        while true {
            cond.lock()
            while queue.isEmpty && !stopping && !(publishWanted && !memtable.isEmpty)
                    && !(!memtable.isEmpty && Self.now() >= memtableDeadline) {
                let wake = memtable.isEmpty ? Self.now() + 1 : memtableDeadline
                _ = cond.wait(until: Date(timeIntervalSince1970: wake))
            }
            if options.walCommitDelay > 0 && !queue.isEmpty && queue.count < Self.walChunk / 16
                && !stopping && !publishWanted && !flushWanted {
                _ = cond.wait(until: Date(timeIntervalSinceNow: options.walCommitDelay))
            }
            flushWanted = false
            var blocks = queue.take(swappingOpenWith: &spare)
            let first = pendingFirstSeq
            pendingFirstSeq = nextSeq
            let stop = stopping
            let wantPublish = publishWanted
            if !blocks.isEmpty || !spare.isEmpty { cond.broadcast() }   // room in the queue for waiting importers
            cond.unlock()

            // Full blocks are one group commit each and move into the memtable whole; the open
            // block is committed in chunks of at most `walChunk` spans (which keep the memtable,
            // and so the publisher, fed steadily while a backlog drains) and copied.
            var seq = first
            for i in blocks.indices {
                var block = SpanRecords()
                swap(&block, &blocks[i])      // the memtable's alone, so it can be emptied in place later
                commit(block, 0..<block.count, firstSeq: seq)
                seq += UInt64(block.count)
                memtable.append(block: block)
                afterCommit(maxSeq: seq - 1)
            }
            var chunkStart = 0
            while chunkStart < spare.count {
                let chunk = chunkStart..<min(spare.count, chunkStart + Self.walChunk)
                let chunkFirst = seq + UInt64(chunkStart)
                commit(spare, chunk, firstSeq: chunkFirst)
                memtable.append(copying: spare, chunk) { takeBlock() }
                chunkStart = chunk.upperBound
                afterCommit(maxSeq: chunkFirst + UInt64(chunk.count) - 1)
            }
            spare.removeAll()
            if !memtable.isEmpty && (memtable.count >= options.cutRows || Self.now() >= memtableDeadline || wantPublish || stop) {
                cut()
            }
            cond.lock()
            if wantPublish && queue.isEmpty && memtable.isEmpty { publishWanted = false }
            if stopping && queue.isEmpty && memtable.isEmpty {
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

    /// Writes records `range` (not empty) to the WAL as one group commit and records the outcome.
    /// After a failure the spans still go into the memtable, and are durable once published.
    private func commit(_ records: SpanRecords, _ range: Range<Int>, firstSeq: UInt64) {
        if memtable.isEmpty { memtableDeadline = Self.now() + options.cutInterval }
        var failure: Error?
        do {
            if walNeedsNewFile { try wal.rotate(firstSeq: firstSeq); walNeedsNewFile = false }
            try wal.append(records, range, firstSeq: firstSeq)
        } catch {
            failure = error
            walNeedsNewFile = true
        }
        cond.lock()
        let last = firstSeq + UInt64(range.count) - 1
        if let failure {
            walError = failure; counters.walErrors += 1; counters.lastError = "write-ahead log: \(failure)"
            walGap = (walGap?.lowerBound ?? firstSeq)...last
        } else {
            walError = nil
            walWrittenSeq = last
        }
        updateDurable()
        counters.walBatches += 1
        counters.walCompressedBatches = wal.compressedCommits
        cond.broadcast()
        cond.unlock()
    }

    /// After spans up to `maxSeq` joined the memtable: cut it when it is large enough, or when
    /// the publisher has nothing to do.
    private func afterCommit(maxSeq: UInt64) {
        memtableMaxSeq = maxSeq
        if memtable.count >= options.cutRows || memtable.recordBytes >= options.cutBytes || publisherIsIdle() {
            cut()
        } else {
            cond.lock(); memtableReservedBytes = memtable.reservedBytes; cond.unlock()
        }
    }

    private func takeBlock() -> SpanRecords {
        cond.lock(); defer { cond.unlock() }
        return pool.take()
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
        memtableReservedBytes = 0
        cond.unlock()
        memtable = Memtable(blockRows: options.blockRows, blockBytes: options.blockBytes)
        publisherBell.ring()
    }
}
