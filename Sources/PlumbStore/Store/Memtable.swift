/// The spans a `SpanStore` has written to the WAL and not yet cut for the publisher: blocks of
/// records in sequence order. Full blocks from the queue are moved in whole; the queue's partly
/// filled block is copied onto an open tail block (small when spans trickle in).
///
/// ```swift
/// var memtable = Memtable(blockRows: 65_536)
/// memtable.append(block: fullBlock)                           // moved, not copied
/// memtable.append(copying: spare, 0..<spare.count) { pool.take() }
/// for piece in memtable.pieces(of: 0..<65_536) { ... }        // a row group across blocks
/// ```
struct Memtable: Sendable {
    private(set) var blocks: [SpanRecords] = []
    private(set) var count = 0
    /// Bytes of records it holds (what `StoreOptions.cutBytes` bounds).
    private(set) var recordBytes = 0
    /// Whether the last block takes copies (a block moved in is left as it is).
    private var tailOpen = false
    /// Spans an open tail block takes before the next one starts.
    let blockRows: Int
    /// ... or bytes of records.
    let blockBytes: Int

    init(blockRows: Int = SpanRecords.blockRows, blockBytes: Int = SpanRecords.blockBytes) {
        self.blockRows = blockRows
        self.blockBytes = blockBytes
    }

    /// Spans replayed from the WAL, in one block.
    init(_ records: SpanRecords, blockRows: Int = SpanRecords.blockRows, blockBytes: Int = SpanRecords.blockBytes) {
        self.blockRows = blockRows
        self.blockBytes = blockBytes
        if !records.isEmpty { blocks = [records]; count = records.count; recordBytes = records.encoded.byteCount }
    }

    var isEmpty: Bool { count == 0 }

    /// Bytes its blocks have reserved.
    var reservedBytes: Int { blocks.reduce(0) { $0 + $1.reservedBytes } }

    mutating func append(block: SpanRecords) {
        guard !block.isEmpty else { return }
        blocks.append(block)
        count += block.count
        recordBytes += block.encoded.byteCount
        tailOpen = false
    }

    /// Copies records `range` onto the open tail block, starting one from `newBlock` if needed.
    mutating func append(copying records: SpanRecords, _ range: Range<Int>, newBlock: () -> SpanRecords) {
        guard !range.isEmpty else { return }
        if !tailOpen || blocks[blocks.count - 1].isFullBlock(rows: blockRows, bytes: blockBytes) {
            blocks.append(newBlock())
            tailOpen = true
        }
        let before = blocks[blocks.count - 1].encoded.byteCount
        blocks[blocks.count - 1].append(records, range)
        count += range.count
        recordBytes += blocks[blocks.count - 1].encoded.byteCount - before
    }

    /// Rows `range` (of all blocks in order) as (block, rows within it) pieces.
    func pieces(of range: Range<Int>) -> [(block: Int, rows: Range<Int>)] {
        var out: [(block: Int, rows: Range<Int>)] = []
        var start = 0
        for (i, b) in blocks.enumerated() {
            let lo = max(range.lowerBound, start), hi = min(range.upperBound, start + b.count)
            if lo < hi { out.append((i, (lo - start)..<(hi - start))) }
            start += b.count
            if start >= range.upperBound { break }
        }
        return out
    }

    /// Takes the blocks out, leaving the memtable empty.
    mutating func removeBlocks() -> [SpanRecords] {
        defer { blocks = []; count = 0; recordBytes = 0; tailOpen = false }
        return blocks
    }
}
