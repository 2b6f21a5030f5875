import XCTest
import PlumbCore
import PlumbTestSupport
@testable import PlumbStore

final class SegmentTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDirectory() }
    override func tearDown() { _ = try? FileManagerLite.removeTree(dir) }

    /// `rows` test spans in a segment of 1,000-row groups.
    func writeSegment(seed: UInt64, rows: Int) throws -> (spans: [Span], path: String, written: SegmentWriter.Written) {
        var gen = TestSpans(seed: seed)
        let spans = gen.spans(rows)
        let path = dir + "/s\(seed).plseg"
        return (spans, path, try SegmentWriter.write(columns: SpanColumns.columns(of: spans), to: path, rowGroupSize: 1_000))
    }

    func testRoundTripOfEveryColumnType() throws {
        var gen = TestSpans(seed: 1)
        var spans = gen.spans(5_000)
        spans[0].properties = [:]; spans[1].userID = ""; spans[2].model = "😀模型"
        spans[3].inputTokens = Int64.min; spans[4].outputTokens = Int64.max; spans[5].costUSD = .nan
        let path = dir + "/a.plseg"
        let written = try SegmentWriter.write(columns: SpanColumns.columns(of: spans), to: path, rowGroupSize: 1_000)
        XCTAssertEqual(written.footer.rowGroups.count, 5)
        let reader = try SegmentReader(path: path)
        XCTAssertEqual(reader.rowCount, 5_000)
        let (back, refs) = try SpanColumns.spans(from: reader.allColumns())
        XCTAssertEqual(back.count, spans.count)
        for (a, b) in zip(spans, back) { XCTAssertTrue(sameSpan(a, b), "\(a.spanID)") }
        XCTAssertTrue(refs.allSatisfy { $0 == nil })
    }

    func testPageCacheKeepsCheckedPagesAndVerifyStillReadsTheFile() throws {
        let (_, path, w) = try writeSegment(seed: 3, rows: 2_000)
        let model = SegmentSchema.index(of: "model")!
        let page = w.footer.rowGroups[1].pages[model]
        /// Flips a byte of that page in place (the same inode, as an open reader sees it).
        func flip() throws {
            let f = try FileDescriptor(path: path, flags: O_RDWR)
            var b = try f.read(at: page.offset + page.length / 2, count: 1)
            b[0] ^= 0x5A
            XCTAssertEqual(pwrite(f.fd, b, 1, off_t(page.offset + page.length / 2)), 1)
        }
        PageCache.shared.enable(budget: 16 << 20)
        defer { PageCache.shared.enable(budget: 0) }
        var reader: SegmentReader? = try SegmentReader(path: path)
        let before = try reader!.read(rowGroup: 1, column: model)
        XCTAssertGreaterThan(PageCache.shared.bytes, page.length)
        // The kept page is served (its checksum was checked when it was read); verify's deep
        // check reads the file and finds the flip.
        try flip()
        XCTAssertEqual(try reader!.read(rowGroup: 1, column: model).values, before.values, "the kept page")
        XCTAssertThrowsError(try reader!.checkAllPages()) {
            XCTAssertTrue("\($0)".contains("checksum mismatch in column model, row group 1"), "\($0)")
        }
        reader = nil
        XCTAssertEqual(PageCache.shared.bytes, 0, "a reader's pages go with it")
        // Off: every read checks the file.
        PageCache.shared.enable(budget: 0)
        let fresh = try SegmentReader(path: path)
        XCTAssertThrowsError(try fresh.read(rowGroup: 1, column: model))
        try flip()
        XCTAssertEqual(try fresh.read(rowGroup: 1, column: model).values, before.values)
    }

    func testReadsOnABypassingThreadNeitherTakeNorKeepPages() throws {
        let (_, path, w) = try writeSegment(seed: 4, rows: 2_000)
        let model = SegmentSchema.index(of: "model")!
        PageCache.shared.enable(budget: 16 << 20)
        defer { PageCache.shared.enable(budget: 0) }
        let reader = try SegmentReader(path: path)
        let want = try PageCache.bypassing { try reader.read(rowGroup: 0, column: model) }
        XCTAssertEqual(PageCache.shared.bytes, 0, "kept while bypassing")
        _ = try reader.read(rowGroup: 0, column: model)
        XCTAssertGreaterThan(PageCache.shared.bytes, 0)
        // A kept page is not taken while bypassing: the file is read (and the flip found).
        let page = w.footer.rowGroups[0].pages[model]
        let f = try FileDescriptor(path: path, flags: O_RDWR)
        var b = try f.read(at: page.offset + page.length / 2, count: 1)
        b[0] ^= 0x5A
        XCTAssertEqual(pwrite(f.fd, b, 1, off_t(page.offset + page.length / 2)), 1)
        XCTAssertThrowsError(try PageCache.bypassing { try reader.read(rowGroup: 0, column: model) })
        XCTAssertEqual(try reader.read(rowGroup: 0, column: model).values, want.values, "the kept page, after")
    }

    func testZoneMapsBoundTheirRowGroups() throws {
        let (spans, _, w) = try writeSegment(seed: 2, rows: 3_000)
        let ts = SegmentSchema.index(of: "ts_start")!
        for (g, group) in w.footer.rowGroups.enumerated() {
            guard case .int(let lo, let hi) = group.pages[ts].zone.bounds else { return XCTFail("no ts zone") }
            let slice = spans[g * 1000..<(g + 1) * 1000].map(\.tsStart)
            XCTAssertEqual(lo, slice.min()); XCTAssertEqual(hi, slice.max())
        }
        guard case .int(let lo, let hi) = w.footer.fileZones[ts].bounds else { return XCTFail() }
        XCTAssertEqual(lo, spans.map(\.tsStart).min()); XCTAssertEqual(hi, spans.map(\.tsStart).max())
    }

    func testStringZoneBoundsAreTrueBoundsForLongAndUnicodeValues() throws {
        let long = String(repeating: "é", count: 40)          // 80 bytes: min is cut at a character
        XCTAssertEqual(ZoneMap.of(ColumnVector(.string([long + "z", long + "a", "a"]))).bounds, .none,
                       "a max over 64 bytes has no short upper bound")
        XCTAssertEqual(ZoneMap.of(ColumnVector(.string([long + "z", "ü", "a"]))).bounds, .string(min: "a", max: "ü"),
                       "byte order: ü (c3 bc) sorts after é (c3 a9)")
        let lower = ZoneMap.lowerBound(long + "a")
        XCTAssertLessThanOrEqual(lower.utf8.count, 64)
        XCTAssertFalse(lower.unicodeScalars.contains("\u{FFFD}"))
        XCTAssertTrue((long + "a").utf8.starts(with: lower.utf8))
        var w = ByteWriter()
        XCTAssertEqual(StringCodec.encode(["b", "a", "c", "a"], into: &w), .string(min: "a", max: "c"))
    }

    func testEveryFlippedByteIsDetectedAndNothingTraps() throws {
        var gen = TestSpans(seed: 3)
        let path = dir + "/c.plseg"
        _ = try SegmentWriter.write(columns: SpanColumns.columns(of: gen.spans(400)), to: path, rowGroupSize: 200)
        let good = try FileSystem.readAll(path)
        let bad = dir + "/bad.plseg"
        var undetected: [Int] = []
        for offset in stride(from: 0, to: good.count, by: max(1, good.count / 300)) {
            var bytes = good
            bytes[offset] ^= 0x5A
            try FileSystem.writeAtomically(bad, bytes)
            do {
                let r = try SegmentReader(path: bad)
                try r.checkAllPages()
                undetected.append(offset)
            } catch is SegmentError {}
        }
        XCTAssertEqual(undetected, [], "flipped bytes no check caught")
        for length in [0, 10, 16, 31, good.count / 2, good.count - 1] {
            try FileSystem.writeAtomically(bad, Array(good.prefix(length)))
            XCTAssertThrowsError(try SegmentReader(path: bad).checkAllPages(), "truncated to \(length)")
        }
    }
}

/// Recursive delete without Foundation.
enum FileManagerLite {
    static func removeTree(_ path: String) throws {
        for name in FileSystem.list(path) {
            let p = path + "/" + name
            if !FileSystem.list(p).isEmpty || isDirectory(p) { try removeTree(p) } else { try FileSystem.remove(p) }
        }
        rmdir(path)
    }

    static func isDirectory(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}

/// The write path builds pages from WAL records (`RowGroupBuilder`); compaction and tools build
/// them from `Span`s through columns. Both must give the same bytes.
final class RowGroupBuilderTests: XCTestCase {
    func testPagesFromRecordsEqualPagesFromColumns() throws {
        var gen = TestSpans(seed: 7)
        var spans = gen.spans(3_000)
        spans[0].properties = ["z": "1", "a": "2", "é": "3", "": ""]; spans[1].userID = ""; spans[2].model = "😀模型"
        spans[3].traceID = "ABCDEF0123456789"; spans[4].costUSD = .nan; spans[5].properties = [:]
        var builder = RowGroupBuilder()
        for round in 0..<2 {        // a reused builder must start clean
            try assertPagesEqual(&builder, spans, "round \(round)")
        }
    }

    /// Dictionary columns keep their dictionaries from row group to row group; each page must
    /// still encode only its own values, in whichever mode the strings call for.
    func testInternedColumnsEncodeEachRowGroupOnItsOwn() throws {
        var builder = RowGroupBuilder()
        var gen = TestSpans(seed: 11)
        try assertPagesEqual(&builder, gen.spans(2_000), "first group")
        var spans = gen.spans(2_000)
        for i in spans.indices {
            spans[i].apiKeyHash = Hex.encode((0..<8).map { UInt8(truncatingIfNeeded: (i * 7919) >> ($0 * 3)) })  // hex, distinct
            spans[i].userID = "u\(i)"                                                    // distinct: plain
            spans[i].sessionID = String(repeating: "ab", count: 16).replacingOccurrences(of: "b", with: "\(i % 3)") // hex, repeated
            spans[i].model = i % 2 == 0 ? nil : spans[i].model
        }
        try assertPagesEqual(&builder, spans, "hex, plain and repeated hex")
        var many = gen.spans(20_000)                 // more distinct users than a dictionary keeps
        for i in many.indices { many[i].userID = "user-\(i)" }
        try assertPagesEqual(&builder, many, "past the kept dictionary size")
        try assertPagesEqual(&builder, gen.spans(5), "after the dictionaries were dropped")
        try assertPagesEqual(&builder, [], "no rows")
    }

    private func assertPagesEqual(_ builder: inout RowGroupBuilder, _ spans: [Span], _ label: String) throws {
        let records = SpanRecords(spans)
        builder.reset()
        try records.encoded.withValues { v in try builder.add(v, rows: 0..<v.count) }
        XCTAssertEqual(builder.rows, spans.count)
        XCTAssertTrue(builder.bodies.isEmpty)
        let fromRecords = builder.dataPages() + builder.bodyPages(file: 1, base: 12)
        let columns = SpanColumns.columns(of: spans)
        for (ci, c) in SegmentSchema.columns.enumerated() {
            let expected = PageCodec.encodeWithZone(columns[ci], type: c.type)
            XCTAssertEqual(fromRecords[ci].page, expected.page, "\(label): page of \(c.name)")
            XCTAssertEqual(fromRecords[ci].zone, expected.zone, "\(label): zone map of \(c.name)")
        }
    }

    func testBodiesLandInTheBodyFileWhereTheirReferencesSay() throws {
        var gen = TestSpans(seed: 8)
        let spans = gen.spans(900, bodies: true)
        let path = makeTempDirectory() + "/b.plbody"
        let bodies = BodyFile.Writer(id: 3, path: path)
        let segment = makeTempDirectory() + "/s.plseg"
        let w = try SegmentWriter(path: segment)
        var builder = RowGroupBuilder()
        let records = SpanRecords(spans)
        for start in stride(from: 0, to: spans.count, by: 300) {     // three row groups, each its own blocks
            builder.reset()
            try records.encoded.withValues { v in for i in start..<start + 300 { try builder.add(v[i]) } }
            var pages = builder.dataPages()
            builder.bodies.finish()
            pages += builder.bodyPages(file: 3, base: try bodies.append(builder.bodies))
            try w.add(rowGroup: pages, rows: builder.rows)
        }
        _ = try w.finish()
        XCTAssertNotNil(try bodies.finish())
        let (back, refs) = try SpanColumns.spans(from: try SegmentReader(path: segment).allColumns())
        XCTAssertEqual(back.map(\.spanID), spans.map(\.spanID))
        let file = try FileDescriptor.openForReading(path)
        var withBodies = 0
        for (s, ref) in zip(spans, refs) {
            if s.requestBody == nil && s.responseBody == nil { XCTAssertNil(ref); continue }
            withBodies += 1
            let r = try XCTUnwrap(ref)
            XCTAssertEqual(r.file, 3)
            let (req, resp) = try BodyFile.read(r, file: file)
            XCTAssertEqual(req, s.requestBody); XCTAssertEqual(resp, s.responseBody)
        }
        XCTAssertGreaterThan(withBodies, 300)
    }

    func testATruncatedRecordIsAnErrorNotACrash() throws {
        var gen = TestSpans(seed: 9)
        let one = SpanRecords(gen.spans(1)).encoded.bytes
        var builder = RowGroupBuilder()
        for cut in [0, 1, one.count / 2, one.count - 1] {
            XCTAssertThrowsError(try Array(one[0..<cut]).withUnsafeBufferPointer { try builder.add($0) }, "cut at \(cut)")
        }
    }
}
