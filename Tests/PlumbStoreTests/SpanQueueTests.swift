import XCTest
import PlumbCore
import PlumbTestSupport
@testable import PlumbStore

/// The producers' queue and the memtable hold records in blocks; these check that no span is
/// lost, doubled or reordered on the way, and that row groups are cut across block boundaries.
final class SpanQueueTests: XCTestCase {
    func ids(_ records: SpanRecords) throws -> [String] {
        try records.encoded.withValues { v in
            try (0..<v.count).map { i in
                var r = ByteReader(Array(v[i]))
                return try SpanRecord.decode(&r).spanID
            }
        }
    }

    func testFullBlocksAreTakenWholeAndTheOpenOneIsSwapped() throws {
        var gen = TestSpans(seed: 41)
        let spans = gen.spans(10)
        var queue = SpanQueue(blockRows: 3), pool = BlockPool()
        for s in spans { queue.append(s, pool: &pool) }
        XCTAssertEqual(queue.count, 10)
        var spare = SpanRecords()
        let full = queue.take(swappingOpenWith: &spare)
        XCTAssertEqual(full.map(\.count), [3, 3, 3])
        XCTAssertEqual(spare.count, 1)
        XCTAssertTrue(queue.isEmpty)
        XCTAssertEqual(try full.flatMap(ids) + ids(spare), spans.map(\.spanID))
        // The queue goes on in the empty block it was handed.
        queue.append(spans[0], pool: &pool)
        var next = SpanRecords()
        XCTAssertEqual(queue.take(swappingOpenWith: &next).count, 0)
        XCTAssertEqual(try ids(next), [spans[0].spanID])
    }

    func testMemtablePiecesCrossBlocksInOrder() throws {
        var gen = TestSpans(seed: 42)
        let spans = gen.spans(11)
        var pool = BlockPool()
        var memtable = Memtable(blockRows: 4)
        memtable.append(block: SpanRecords(spans[0..<3]))                    // moved in: rows 0-2
        let partial = SpanRecords(spans[3..<9])
        memtable.append(copying: partial, 0..<2) { pool.take() }            // a new tail: rows 3-4
        memtable.append(copying: partial, 2..<6) { pool.take() }            // fills it to 4, then more
        memtable.append(block: SpanRecords(spans[9..<11]))                  // rows 9-10
        XCTAssertEqual(memtable.count, 11)
        XCTAssertEqual(memtable.blocks.map(\.count), [3, 6, 2], "a tail takes copies until it is full")
        let pieces = memtable.pieces(of: 2..<10)
        XCTAssertEqual(pieces.map(\.block), [0, 1, 2])
        XCTAssertEqual(pieces.map(\.rows), [2..<3, 0..<6, 0..<1])
        var got: [String] = []
        for p in pieces { got += try ids(memtable.blocks[p.block])[p.rows] }
        XCTAssertEqual(got, spans[2..<10].map(\.spanID))
        XCTAssertEqual(memtable.pieces(of: 11..<11).count, 0)
    }

    func testPooledBlocksComeBackEmptyWithTheirRoom() {
        var gen = TestSpans(seed: 43)
        var pool = BlockPool(limit: 1)
        var block = pool.take()
        let room = block.encoded.bytes.capacity
        XCTAssertGreaterThanOrEqual(room, SpanRecords.blockBytes)
        for s in gen.spans(5) { block.append(s) }
        pool.put(&block)
        XCTAssertEqual(block.count, 0)
        var extra = SpanRecords(gen.spans(1))
        pool.put(&extra)                    // over the limit: dropped
        let again = pool.take()
        XCTAssertEqual(again.count, 0)
        XCTAssertEqual(again.encoded.bytes.capacity, room, "the same buffer, emptied in place")
        XCTAssertGreaterThanOrEqual(pool.take().encoded.bytes.capacity, SpanRecords.blockBytes, "a new block when none is kept")
        // A block grown far past its size (a 40 MiB body) is not kept.
        var huge = gen.spans(1)[0]
        huge.requestBody = String(repeating: "x", count: 40 << 20)
        var grown = SpanRecords([huge])
        XCTAssertGreaterThan(grown.encoded.bytes.capacity, 2 * SpanRecords.blockBytes + (1 << 20))
        pool.put(&grown)
        XCTAssertLessThan(pool.take().encoded.bytes.capacity, 2 * SpanRecords.blockBytes)
    }

    func testASmallBlockSizeCutsBlocksByBytesAndThePoolKeepsItsLimit() {
        var gen = TestSpans(seed: 44)
        var queue = SpanQueue(blockRows: 65_536, blockBytes: 64 << 10)
        var pool = BlockPool(limit: 2, blockRows: 65_536, blockBytes: 64 << 10)
        var spare = SpanRecords.block(rows: 65_536, bytes: 64 << 10)
        XCTAssertGreaterThanOrEqual(spare.reservedBytes, SpanRecords.room(64 << 10))
        for s in gen.spans(1_000, bodies: true) { queue.append(s, pool: &pool) }
        let full = queue.take(swappingOpenWith: &spare)
        XCTAssertGreaterThan(full.count, 3, "blocks cut at 64 KiB of records, not at 65,536 spans")
        for b in full { XCTAssertLessThan(b.encoded.byteCount, (64 << 10) + (1 << 20)) }
        for var b in full { pool.put(&b) }
        XCTAssertEqual(pool.count, 2, "two kept, the rest freed")
        XCTAssertLessThanOrEqual(pool.reservedBytes, 2 * 2 * SpanRecords.room(64 << 10))
    }

    /// A store sized as `plumb serve` sizes it holds its buffers to its blocks and pool after a
    /// burst many blocks long, whatever the burst was (the statistic /_plumb/metrics shows).
    func testAServerSizedStoreGivesABurstsBlocksBack() throws {
        let dir = makeTempDirectory()
        defer { _ = try? FileManagerLite.removeTree(dir) }
        var options = StoreOptions()
        options.blockBytes = 256 << 10; options.blockPoolLimit = 2
        let store = try SpanStore(directory: DataDirectory(dir + "/data"), options: options)
        var gen = TestSpans(seed: 45)
        for s in gen.spans(3_000, bodies: true) { store.append(s) }       // some MB of records: many blocks
        try store.sync()
        let held = store.stats.bufferBytes
        // queue's open block + spare + at most two pooled (the memtable is empty after sync).
        XCTAssertLessThanOrEqual(held, 5 * SpanRecords.room(256 << 10), "\(held) bytes held after the burst")
        try store.close()
    }
}
