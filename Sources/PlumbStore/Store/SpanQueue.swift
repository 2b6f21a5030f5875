import PlumbCore

/// The producers' queue of a `SpanStore`: records in blocks (`SpanRecords.block()`). A producer
/// appends to the open block; a full one joins `full` and a pooled block takes its place, so a
/// burst of appends fills blocks of fixed size instead of growing (and copying, and faulting in)
/// one ever larger buffer. The WAL thread takes the full blocks whole and moves them on into the
/// memtable without copying them.
///
/// ```swift
/// var queue = SpanQueue(blockRows: 65_536), pool = BlockPool()
/// queue.append(span, pool: &pool)
/// var spare = SpanRecords()
/// let full = queue.take(swappingOpenWith: &spare)   // full blocks, then `spare`: in order
/// ```
struct SpanQueue {
    private var full: [SpanRecords] = []
    private var open = SpanRecords()
    private(set) var count = 0
    /// Spans a block holds (fewer when their records reach `SpanRecords.blockBytes`).
    let blockRows: Int
    /// ... or bytes of records.
    let blockBytes: Int

    init(blockRows: Int = SpanRecords.blockRows, blockBytes: Int = SpanRecords.blockBytes) {
        self.blockRows = blockRows
        self.blockBytes = blockBytes
    }

    var isEmpty: Bool { count == 0 }

    /// Bytes its blocks have reserved.
    var reservedBytes: Int { full.reduce(open.reservedBytes) { $0 + $1.reservedBytes } }

    @inline(__always) mutating func append(_ span: Span, pool: inout BlockPool) {
        open.append(span)
        count += 1
        if open.isFullBlock(rows: blockRows, bytes: blockBytes) { roll(pool: &pool) }
    }

    /// Appends records `range` of `records`, already encoded (an importer's), filling blocks as
    /// appending them one by one would.
    mutating func append(_ records: SpanRecords, _ range: Range<Int>, pool: inout BlockPool) {
        let ends = records.encoded.ends
        var lo = range.lowerBound
        while lo < range.upperBound {
            let first = lo == 0 ? 0 : ends[lo - 1]
            var hi = lo
            var full = false
            while hi < range.upperBound && !full {
                hi += 1
                full = open.count + (hi - lo) >= blockRows || open.encoded.byteCount + (ends[hi - 1] - first) >= blockBytes
            }
            open.append(records, lo..<hi)
            count += hi - lo
            lo = hi
            if full { roll(pool: &pool) }
        }
    }

    private mutating func roll(pool: inout BlockPool) {
        full.append(open)
        open = pool.take()
    }

    /// Everything queued: the full blocks (returned, oldest first) and the open block (swapped
    /// with `spare`, an empty block whose room the queue keeps using).
    mutating func take(swappingOpenWith spare: inout SpanRecords) -> [SpanRecords] {
        let taken = full
        full.removeAll(keepingCapacity: true)
        swap(&open, &spare)
        count = 0
        return taken
    }
}

/// Emptied blocks kept for reuse, at most `limit` of them (about 17 MiB each when full, at the
/// default block size); new blocks when none is kept.
struct BlockPool {
    private var blocks: [SpanRecords] = []
    let limit: Int
    let blockRows: Int
    let blockBytes: Int

    init(limit: Int = 24, blockRows: Int = SpanRecords.blockRows, blockBytes: Int = SpanRecords.blockBytes) {
        self.limit = limit
        self.blockRows = blockRows
        self.blockBytes = blockBytes
    }

    mutating func take() -> SpanRecords { blocks.popLast() ?? SpanRecords.block(rows: blockRows, bytes: blockBytes) }

    /// Blocks kept now.
    var count: Int { blocks.count }

    /// Bytes the kept blocks have reserved.
    var reservedBytes: Int { blocks.reduce(0) { $0 + $1.reservedBytes } }

    /// Empties `block` in place (callers hand over the only reference) and keeps it if there is
    /// room; `block` is left empty without room either way.
    mutating func put(_ block: inout SpanRecords) {
        // A block grown far past its size (a replayed WAL, a huge body) is not kept.
        if blocks.count < limit && block.encoded.bytes.capacity <= 2 * SpanRecords.room(blockBytes) {
            block.removeAll()
            blocks.append(block)
        }
        block = SpanRecords()
    }
}
