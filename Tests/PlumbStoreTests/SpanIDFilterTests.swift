import XCTest
import PlumbCore
import PlumbTestSupport
@testable import PlumbStore

/// The per-row-group span-id filters: never a false negative, few false positives, written by
/// every path that writes segments (publish, compaction, `SegmentWriter.write`), checked by
/// `plumb verify`, and a corrupt one is an error rather than a hidden span.
final class SpanIDFilterTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDirectory() }
    override func tearDown() { _ = try? FileManagerLite.removeTree(dir) }

    /// Random 32-hex ids, as imported from other systems.
    func randomIDs(_ n: Int, seed: UInt64) -> [String] {
        var g = TestSpans(seed: seed)
        return (0..<n).map { _ in Hex.encode((0..<16).map { _ in UInt8(truncatingIfNeeded: g.next()) }) }
    }

    func testNoFalseNegativesAndFewFalsePositives() {
        let present = randomIDs(65_536, seed: 1), absent = randomIDs(100_000, seed: 2)
        var f = SplitBlockBloomFilter(keys: present.count)
        for id in present { f.insert(SplitBlockBloomFilter.hash(id)) }
        let bytes = f.bytes
        XCTAssertEqual(SplitBlockBloomFilter(bytes: bytes), f, "round trip through its bytes")
        for id in present {
            let h = SplitBlockBloomFilter.hash(id)
            XCTAssertTrue(f.mightContain(h) && SplitBlockBloomFilter.bytesMightContain(bytes, h), id)
        }
        let falsePositives = absent.filter { f.mightContain(SplitBlockBloomFilter.hash($0)) }.count
        XCTAssertLessThan(falsePositives, 1_500, "\(falsePositives) of 100,000 absent ids (under 1.5%)")
        XCTAssertGreaterThan(falsePositives, 0, "a filter this size is not exact")
        XCTAssertEqual(bytes.count, 65_536 * 12 / 8, "12 bits a key")
    }

    func testSegmentsCarryAFilterPerRowGroupAndLookupsUseIt() throws {
        var gen = TestSpans(seed: 3)
        let spans = gen.spans(5_000)
        let path = dir + "/a.plseg"
        _ = try SegmentWriter.write(columns: SpanColumns.columns(of: spans), to: path, rowGroupSize: 1_000)
        let reader = try SegmentReader(path: path)
        XCTAssertTrue(reader.footer.rowGroups.allSatisfy { $0.idFilter != nil })
        for (i, s) in spans.enumerated() {
            XCTAssertTrue(try reader.mayContain(spanIDHash: SplitBlockBloomFilter.hash(s.spanID), rowGroup: i / 1_000))
        }
        // An id is in one row group: the others rule it out (all but about 0.5% of the time).
        var ruledOut = 0
        for s in spans.prefix(500) {
            for g in 1..<5 where try !reader.mayContain(spanIDHash: SplitBlockBloomFilter.hash(s.spanID), rowGroup: g) { ruledOut += 1 }
        }
        XCTAssertGreaterThan(ruledOut, 1_980)
        try reader.checkAllPages()
    }

    func testAFormatOneSegmentWithoutFiltersIsStillRead() throws {
        var gen = TestSpans(seed: 4)
        let spans = gen.spans(300)
        let path = dir + "/old.plseg"
        let w = try SegmentWriter(path: path)
        let columns = SpanColumns.columns(of: spans)
        try w.add(rowGroup: columns.enumerated().map { PageCodec.encodeWithZone($0.element, type: SegmentSchema.columns[$0.offset].type) }, rows: 300)
        _ = try w.finish()
        var bytes = try FileSystem.readAll(path)
        bytes[8] = 1                                      // the header's format version, as builds before filters wrote it
        try FileSystem.writeAtomically(path, bytes)
        let reader = try SegmentReader(path: path)
        XCTAssertNil(reader.footer.rowGroups[0].idFilter)
        XCTAssertTrue(try reader.mayContain(spanIDHash: 42, rowGroup: 0), "no filter: anything may be there")
        XCTAssertEqual(try SpanColumns.spans(from: reader.allColumns()).spans.count, 300)
        bytes[8] = 3
        try FileSystem.writeAtomically(path, bytes)
        XCTAssertThrowsError(try SegmentReader(path: path)) { XCTAssertTrue("\($0)".contains("format version 3 is not supported"), "\($0)") }
    }

    func testACorruptFilterIsAnErrorNeverAMissingSpan() throws {
        var gen = TestSpans(seed: 5)
        let spans = gen.spans(2_000)
        let path = dir + "/c.plseg"
        let written = try SegmentWriter.write(columns: SpanColumns.columns(of: spans), to: path, rowGroupSize: 1_000)
        let f = written.footer.rowGroups[1].idFilter!
        var bytes = try FileSystem.readAll(path)
        for i in 0..<f.length { bytes[f.offset + i] = 0 }  // every bit cleared: every id "absent"
        try FileSystem.writeAtomically(path, bytes)
        let reader = try SegmentReader(path: path)
        XCTAssertThrowsError(try reader.mayContain(spanIDHash: SplitBlockBloomFilter.hash(spans[1_500].spanID), rowGroup: 1)) {
            XCTAssertTrue("\($0)".contains("checksum mismatch in the span-id filter of row group 1"), "\($0)")
        }
        XCTAssertThrowsError(try reader.checkAllPages())
    }

    func testPublishedAndCompactedSegmentsKeepFiltersAndVerifyChecksThem() throws {
        let data = DataDirectory(dir + "/data")
        var o = StoreOptions(); o.compactionMinSegments = 3; o.rowGroupSize = 500
        let store = try SpanStore(directory: data, options: o)
        var gen = TestSpans(seed: 6)
        var all: [Span] = []
        for b in 0..<4 {
            let spans = gen.spans(700, from: b * 700, bodies: true)
            for s in spans { store.append(s) }
            try store.sync()
            all += spans
        }
        store.maintainNow()
        XCTAssertGreaterThan(store.stats.compactions, 0)
        try store.close()
        let reader = try StoreReader(directory: data)
        for (record, seg) in try reader.openSegments() {
            XCTAssertTrue(seg.footer.rowGroups.allSatisfy { $0.idFilter != nil }, "\(record.file) level \(record.level)")
        }
        XCTAssertEqual(try StoreVerifier.verify(data).failures.map(\.description), [])
        for s in all.shuffled().prefix(50) {
            let found = try reader.span(id: s.spanID, includeBodies: true)
            XCTAssertEqual(found?.spanID, s.spanID)
            XCTAssertEqual(found?.requestBody, s.requestBody)
        }
        XCTAssertNil(try reader.span(id: randomIDs(1, seed: 9)[0]))
    }
}
