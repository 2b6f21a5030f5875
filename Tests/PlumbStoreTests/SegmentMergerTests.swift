import XCTest
import PlumbCore
import PlumbTestSupport
@testable import PlumbStore

final class SegmentMergerTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDirectory() }
    override func tearDown() { _ = try? FileManagerLite.removeTree(dir) }

    func segment(_ name: String, _ spans: [Span], rowGroupSize: Int = 100) throws -> SegmentReader {
        let path = dir + "/\(name).plseg"
        _ = try SegmentWriter.write(columns: SpanColumns.columns(of: spans), to: path, rowGroupSize: rowGroupSize)
        return try SegmentReader(path: path)
    }

    /// What the merge must give: the inputs end to end, stably sorted by ts_start, filtered.
    func reference(_ inputs: [[Span]], keep: ((Int64) -> Bool)? = nil) -> [String] {
        let all = inputs.flatMap { $0 }.enumerated().filter { keep?($0.element.tsStart) ?? true }
        return all.sorted { ($0.element.tsStart, $0.offset) < ($1.element.tsStart, $1.offset) }.map(\.element.spanID)
    }

    func merged(_ readers: [SegmentReader], keep: ((Int64) -> Bool)? = nil, rowGroupSize: Int = 64) throws
        -> (spans: [Span], groups: [Int], peak: Int) {
        var merger = try SegmentMerger(readers, keep: keep)
        let out = dir + "/out-\(UUID().uuidString).plseg"
        guard let written = try merger.write(to: out, rowGroupSize: rowGroupSize) else { return ([], [], merger.peakDecodedValues) }
        let reader = try SegmentReader(path: out)
        try reader.checkAllPages()
        return (try SpanColumns.spans(from: reader.allColumns()).spans, written.footer.rowGroups.map(\.rowCount), merger.peakDecodedValues)
    }

    func testOverlappingUnsortedAndTiedInputsGiveTheStableSortOfAllRows() throws {
        var gen = TestSpans(seed: 5)
        var a = gen.spans(350), b = gen.spans(300, from: 100), c = gen.spans(90, from: 50)
        // b out of order (as a level-0 segment can be), ties across inputs and within one.
        b.reverse()
        b[10].tsStart = a[20].tsStart; c[3].tsStart = a[20].tsStart; a[21].tsStart = a[20].tsStart
        a.sort { $0.tsStart < $1.tsStart }
        let readers = try [segment("a", a), segment("b", b), segment("c", c)]
        let out = try merged(readers)
        XCTAssertEqual(out.spans.map(\.spanID), reference([a, b, c]))
        XCTAssertEqual(out.groups, Array(repeating: 64, count: 11) + [36], "full row groups, the rest last")
        let byID = Dictionary(uniqueKeysWithValues: (a + b + c).map { ($0.spanID, $0) })
        for s in out.spans { XCTAssertTrue(sameSpan(s, byID[s.spanID]!), s.spanID) }
    }

    /// Row groups that go out whole (no other input overlaps them, nothing of them dropped) are
    /// copied page for page, filter too; the rest is merged as before, and the result is the
    /// same rows in the same order either way.
    func testRowGroupsNoOtherInputOverlapsAreCopiedAsTheyAre() throws {
        var gen = TestSpans(seed: 15)
        let all = gen.spans(600).sorted { $0.tsStart < $1.tsStart }
        let a = Array(all[0..<240])                             // groups of 100, 100, 40
        var b = Array(all[240..<500])                           // 100, 100, 60
        let c = Array(all[420..<440]).map { s -> Span in       // within b's second group
            var x = s; x.spanID = SpanID.make(millis: UInt64(s.tsStart / 1000), random: gen.next(), gen.next()); return x
        }
        b.sort { $0.tsStart < $1.tsStart }
        let readers = try [segment("a", a), segment("b", b), segment("c", c)]
        var merger = try SegmentMerger(readers)
        let path = dir + "/copied.plseg"
        let written = try XCTUnwrap(try merger.write(to: path, rowGroupSize: 100))
        XCTAssertEqual(merger.copiedRowGroups, 2 + 2, "a's two full groups, b's first and last; not a's 40 rows, nor b's second (c overlaps it)")
        XCTAssertEqual(written.footer.rowGroups.map(\.rowCount), [100, 100, 40, 100, 100, 20, 60])
        let out = try SegmentReader(path: path)
        try out.checkAllPages()
        let spans = try SpanColumns.spans(from: out.allColumns()).spans
        XCTAssertEqual(spans.map(\.spanID), reference([a, b, c]))
        let byID = Dictionary(uniqueKeysWithValues: (a + b + c).map { ($0.spanID, $0) })
        for s in spans { XCTAssertTrue(sameSpan(s, byID[s.spanID]!), s.spanID) }
        // A copied group's pages are the input's bytes.
        XCTAssertEqual(written.footer.rowGroups[0].pages.map(\.crc), readers[0].footer.rowGroups[0].pages.map(\.crc))
        // Every id is found through its group's filter.
        var row = 0
        for (g, group) in out.footer.rowGroups.enumerated() {
            for s in spans[row..<row + group.rowCount] {
                XCTAssertTrue(try out.mayContain(spanIDHash: SplitBlockBloomFilter.hash(s.spanID), rowGroup: g))
            }
            row += group.rowCount
        }
        // Retention that keeps every row of a group still copies it; one that drops rows merges.
        var keepAll = try SegmentMerger(readers, keep: { _ in true })
        _ = try keepAll.write(to: dir + "/keepall.plseg", rowGroupSize: 100)
        XCTAssertEqual(keepAll.copiedRowGroups, 4)
        var keepSome = try SegmentMerger(readers, keep: { $0 >= a[10].tsStart })
        _ = try keepSome.write(to: dir + "/keepsome.plseg", rowGroupSize: 100)
        XCTAssertEqual(keepSome.copiedRowGroups, 2, "b's first and last groups; a loses rows")
    }

    func testKeepDropsRowsAndNothingKeptWritesNoFile() throws {
        var gen = TestSpans(seed: 6)
        let a = gen.spans(250), b = gen.spans(250, from: 250)
        let cutoff = a[180].tsStart
        let readers = try [segment("a", a), segment("b", b)]
        let out = try merged(readers, keep: { $0 >= cutoff })
        XCTAssertEqual(out.spans.map(\.spanID), reference([a, b], keep: { $0 >= cutoff }))
        var merger = try SegmentMerger(readers, keep: { _ in false })
        XCTAssertNil(try merger.write(to: dir + "/none.plseg", rowGroupSize: 64))
        XCTAssertFalse(FileSystem.exists(dir + "/none.plseg"))
    }

    /// The bound: inputs one after another in time are decoded one column of a row group at a
    /// time, never whole, whatever their number and size (all of a row group's columns at once,
    /// as before, is 40 times the values).
    func testMemoryIsAboutOneRowGroupPerOverlappingInput() throws {
        var gen = TestSpans(seed: 7)
        var inputs: [[Span]] = []
        for i in 0..<12 { inputs.append(gen.spans(1_000, from: i * 1_000).sorted { $0.tsStart < $1.tsStart }) }
        let readers = try inputs.enumerated().map { try segment("in\($0.offset)", $0.element) }
        let out = try merged(readers, rowGroupSize: 100)
        XCTAssertEqual(out.spans.map(\.spanID), reference(inputs))
        XCTAssertLessThanOrEqual(out.peak, 2 * 100, "12,000 rows merged holding at most a column of two input row groups")
        // Fully overlapping inputs hold a column of one row group each, still not the inputs.
        var shuffled: [[Span]] = [[], [], []]
        for (i, s) in gen.spans(3_000).enumerated() { shuffled[i % 3].append(s) }
        let overlapping = try shuffled.enumerated().map { try segment("ov\($0.offset)", $0.element) }
        let out2 = try merged(overlapping, rowGroupSize: 100)
        XCTAssertEqual(out2.spans.map(\.spanID), reference(shuffled))
        XCTAssertLessThanOrEqual(out2.peak, 3 * 100)
    }

    func testACorruptPageNamesItsInput() throws {
        var gen = TestSpans(seed: 8)
        let a = gen.spans(300), b = gen.spans(300, from: 300)
        let good = try segment("a", a)
        let bad = try segment("b", b)
        let model = SegmentSchema.index(of: "model")!
        let page = bad.footer.rowGroups[1].pages[model]
        var bytes = try FileSystem.readAll(bad.path)
        bytes[page.offset + 3] ^= 0xFF
        try FileSystem.writeAtomically(bad.path, bytes)
        var merger = try SegmentMerger([good, try SegmentReader(path: bad.path)])
        XCTAssertThrowsError(try merger.write(to: dir + "/x.plseg", rowGroupSize: 64)) {
            guard let e = $0 as? SegmentMerger.InputError else { return XCTFail("\($0)") }
            XCTAssertEqual(e.input, 1)
            XCTAssertTrue(e.error.reason.contains("column model, row group 1"), e.error.reason)
        }
    }
}
