import XCTest
import PlumbCore
import PlumbTestSupport
@testable import PlumbStore

final class CodecTests: XCTestCase {
    func testSpreadPutsPresentValuesOnTheirRows() {
        // The AVX-512 path (`plumb_spread`, 8 or 16 rows a step) and the scalar loop after it must
        // agree with a plain reading for every length, mix of NULLs and value width; with fewer
        // values than present rows (a corrupt page) neither may read past the values.
        var gen = TestSpans(seed: 51)
        func check<T: FixedWidthInteger>(_ type: T.Type, rows: Int, nullEvery: Int, drop: Int = 0) {
            let validity = (0..<rows).map { _ in gen.next() % UInt64(nullEvery) != 0 }
            let present = validity.filter { $0 }.count
            let dense = (0..<max(0, present - drop)).map { _ in T(truncatingIfNeeded: gen.next() | 1) }
            var expected: [T] = [], k = 0
            for v in validity {
                expected.append(v && !dense.isEmpty ? dense[min(k, dense.count - 1)] : 0)
                if v { k += 1 }
            }
            XCTAssertEqual(PageCodec.spread(dense, validity, rows), expected, "\(T.self), \(rows) rows, 1 in \(nullEvery) NULL, \(drop) dropped")
        }
        for rows in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1_000, 65_536] {
            for nullEvery in [2, 3, 20, 1_000_000] {
                check(UInt32.self, rows: rows, nullEvery: nullEvery)
                check(Int64.self, rows: rows, nullEvery: nullEvery)
                check(Int32.self, rows: rows, nullEvery: nullEvery, drop: 5)
                check(UInt64.self, rows: rows, nullEvery: nullEvery, drop: 5)
            }
        }
    }

    func testCRC32CKnownValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)   // RFC 3720 B.4
        var rng = TestSpans(seed: 5)
        for n in [0, 1, 7, 8, 9, 63, 64, 1000, 4099] {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            bytes.withUnsafeBytes { b in XCTAssertEqual(CRC32C.checksum(b), CRC32C.software(b), "length \(n)") }
        }
    }

    func testLZ4RoundTripAndCorruption() throws {
        let text = Array(String(repeating: "plumb span ", count: 1000).utf8)
        let packed = LZ4.compress(text)
        XCTAssertLessThan(packed.count, text.count / 10)
        XCTAssertEqual(try LZ4.decompress(packed, originalSize: text.count), text)
        XCTAssertThrowsError(try LZ4.decompress(Array(packed.prefix(packed.count / 2)), originalSize: text.count))
    }

    func testBitPackingEveryWidth() throws {
        var rng = TestSpans(seed: 7)
        for width in 0...64 {
            let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
            let values = (0..<257).map { _ in rng.next() & mask }
            var w = ByteWriter()
            BitPacking.pack(count: values.count, width: width, into: &w) { values[$0] }
            XCTAssertEqual(w.count, BitPacking.byteCount(count: values.count, width: width))
            var r = ByteReader(w.bytes)
            var out = [UInt64](repeating: 0, count: values.count)
            try BitPacking.unpack(&r, count: values.count, width: width) { out[$0] = $1 }
            XCTAssertEqual(out, values, "width \(width)")
        }
    }

    /// Bitmaps are unpacked a byte at a time, codes into arrays that are not zeroed first: every
    /// length around the byte and word boundaries, bytes after the bitmap left unread.
    func testBoolsAndCodesUnpackAtEveryLength() throws {
        var rng = TestSpans(seed: 8)
        for count in 0...70 {
            let bools = (0..<count).map { _ in rng.next() & 1 == 1 }
            var w = ByteWriter()
            BitPacking.pack(count: count, width: 1, into: &w) { bools[$0] ? 1 : 0 }
            w.bytes.append(0xFF)
            var r = ByteReader(w.bytes)
            XCTAssertEqual(try BitPacking.unpackBools(&r, count: count), bools, "count \(count)")
            XCTAssertEqual(BitPacking.countTrue(bools), bools.filter { $0 }.count, "count \(count)")
            XCTAssertEqual(r.remaining, 1, "count \(count)")

            let codes = (0..<count).map { _ in UInt32(truncatingIfNeeded: rng.next() % 41) }
            var wc = ByteWriter()
            BitPacking.pack(count: count, width: 6, into: &wc) { UInt64(codes[$0]) }
            var rc = ByteReader(wc.bytes)
            XCTAssertEqual(try BitPacking.unpackUInt32(&rc, count: count, width: 6), codes, "count \(count)")
            XCTAssertEqual(BitPacking.largest(codes), codes.max() ?? 0)
        }
    }

    func testIntCodecExtremes() throws {
        var rng = TestSpans(seed: 9)
        let cases: [[Int64]] = [
            [], [5], [Int64.min, Int64.max], [Int64.max, Int64.min, 0, -1, 1],
            (0..<1000).map { 1_795_255_200_000_000 + Int64($0) * 1_000 },       // timestamps: delta
            (0..<1000).map { _ in Int64(rng.next() % 4000) },                   // counters: frame of reference
            (0..<1000).map { _ in Int64(bitPattern: rng.next()) },              // random: 64 bits
            [Int64](repeating: 7, count: 100),
            (0..<1000).map { $0 % 97 == 0 ? Int64(1) << 50 : Int64($0 % 300) },   // outliers: patched
            (0..<1000).map { $0 == 999 ? Int64.max : Int64($0) },
        ]
        for values in cases {
            var w = ByteWriter()
            IntCodec.encode(values, into: &w)
            var r = ByteReader(w.bytes)
            XCTAssertEqual(try IntCodec.decode(&r, count: values.count), values)
            XCTAssertEqual(r.remaining, 0)
        }
        var w = ByteWriter()
        IntCodec.encode((0..<1000).map { 1_795_255_200_000_000 + Int64($0) * 1_000 }, into: &w)
        XCTAssertLessThan(w.count, 40, "regular timestamps should delta-pack to almost nothing")
        var p = ByteWriter()
        IntCodec.encode((0..<1000).map { $0 % 97 == 0 ? Int64(1) << 50 : Int64($0 % 300) }, into: &p)
        XCTAssertEqual(p.bytes[0], IntCodec.Mode.patchedFrameOfReference.rawValue)
        XCTAssertLessThan(p.count, 1000 * 9 / 8 + 100, "a few outliers must not widen every value to 51 bits")
    }

    func testDoubleCodecIsBitExact() throws {
        let cases: [[Double]] = [
            [0.1, 0.25, 1234.567, 1e-9, 42],
            [.nan, .infinity, -.infinity, -0.0, 0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude],
            (0..<500).map { Double($0) * 0.001 },
            [1.0 / 3.0, 2.0 / 3.0],
        ]
        for values in cases {
            var w = ByteWriter()
            DoubleCodec.encode(values, into: &w)
            var r = ByteReader(w.bytes)
            let back = try DoubleCodec.decode(&r, count: values.count)
            XCTAssertEqual(back.map(\.bitPattern), values.map(\.bitPattern))
        }
        var w = ByteWriter()
        DoubleCodec.encode((0..<1000).map { Double($0 * 37 % 5000) / 1000 }, into: &w)
        XCTAssertLessThan(w.count, 1000 * 2 + 20, "ms latencies with µs precision should pack as small integers")
    }

    /// Every length the hash and compare read differently (empty, under 4, under 8, one or two
    /// words, longer), and strings that differ in one byte at the start, middle or end.
    func testInternerTellsEveryStringApart() {
        var strings: [String] = []
        for n in 0...40 {
            let base = String(repeating: "a", count: n)
            strings.append(base)
            for at in Set([0, n / 2, n - 1]) where n > 0 {
                var b = Array(base.utf8); b[at] = UInt8(ascii: "b")
                strings.append(String(decoding: b, as: UTF8.self))
            }
        }
        var d = StringInterner(expected: 4)             // grows several times on the way
        let codes = strings.map { d.code(of: $0) }
        XCTAssertEqual(codes, Array(0..<strings.count), "each distinct string gets the next code")
        XCTAssertEqual(strings.map { d.code(of: $0) }, codes, "and the same one when seen again")
        XCTAssertEqual(codes.map { d.string($0) }, strings)
        XCTAssertEqual(d.sortedOrder().map { d.string($0) }, strings.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        d.removeAll()
        XCTAssertEqual(d.count, 0)
        XCTAssertEqual(d.code(of: "zz"), 0)
    }

    func testByteCopyCopiesEveryLengthExactly() {
        let src = (0..<80).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
        for n in 0...70 {
            var dst = [UInt8](repeating: 0, count: 80)
            src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in
                ByteCopy.copy(to: d.baseAddress! + 3, from: s.baseAddress!, count: n)
            } }
            XCTAssertEqual(Array(dst[3..<3 + n]), Array(src[0..<n]), "length \(n)")
            XCTAssertTrue(dst[0..<3].allSatisfy { $0 == 0 } && dst[(3 + n)...].allSatisfy { $0 == 0 }, "length \(n) wrote outside")
        }
    }

    func testStringCodecModes() throws {
        let composed = "\u{E9}", decomposed = "e\u{301}"     // equal as Swift strings, different bytes
        let cases: [[String]] = [
            [], [""], ["", "", "a"], ["ü", "😀", "模型", "", "a\u{0}b"],
            (0..<200).map { ["openai", "anthropic", "gemini"][$0 % 3] },           // dictionary
            (0..<50).map { _ in SpanID.generate() },                                // hex, 32
            ["00f067aa0ba902b7", "ffffffffffffffff"],                               // hex, 16
            [composed, decomposed, composed, decomposed, composed, decomposed, "x", "x", "x", "x"],
            ["0123456789ABCDEF0123456789abcdef"],                                     // uppercase: not hex mode
        ]
        for values in cases {
            var w = ByteWriter()
            StringCodec.encode(values, into: &w)
            var r = ByteReader(w.bytes)
            let back = try StringCodec.decode(&r, count: values.count)
            XCTAssertEqual(back.map { Array($0.utf8) }, values.map { Array($0.utf8) })
        }
    }

    /// A string page of NULLs only scans as dictionary codes with no row present (so that
    /// dictionary paths take it), and reads back as the NULLs it holds.
    func testAPageOfNullStringsScansAsCodes() throws {
        for rows in [1, 7, 1_000] {
            let column = ColumnVector(.string([String](repeating: "", count: rows)), validity: [Bool](repeating: false, count: rows))
            let page = PageCodec.encode(column, type: .string)
            guard case .dictionary(let codes, let entries, let validity) = try PageCodec.decodeScan(page, type: .string) else {
                return XCTFail("\(rows) NULLs did not scan as codes")
            }
            XCTAssertEqual(codes.count, rows); XCTAssertFalse(entries.isEmpty)
            XCTAssertEqual(validity, [Bool](repeating: false, count: rows))
            XCTAssertEqual(try PageCodec.decode(page, type: .string).validity, validity)
        }
    }

    /// One key of a map page equals looking the key up in each row's map: keys and values
    /// dictionary-coded or plain, NULL maps, empty maps, rows without the key, a key no row
    /// has (all NULL), and key bytes that differ only in normalization.
    /// A forged page past its checksum cannot claim more rows or map entries than Plumb writes:
    /// a 12-byte map page had decoded into 12 million strings.
    func testPagesOverTheRowAndEntryBoundsAreRefused() throws {
        let fits = PageCodec.encode(ColumnVector(.int([Int64](repeating: 7, count: PageCodec.maxPageRows)), validity: nil), type: .int)
        XCTAssertEqual(try PageCodec.decode(fits, type: .int).count, PageCodec.maxPageRows)
        let over = PageCodec.encode(ColumnVector(.int([Int64](repeating: 7, count: PageCodec.maxPageRows + 1)), validity: nil), type: .int)
        XCTAssertThrowsError(try PageCodec.decode(over, type: .int)) { XCTAssertTrue("\($0)".contains("implausible page row count"), "\($0)") }

        func map(_ n: Int) -> [UInt8] {
            let m = Dictionary(uniqueKeysWithValues: (0..<n).map { ("key\($0)", "value") })
            return PageCodec.encode(ColumnVector(.map([m]), validity: nil), type: .map)
        }
        XCTAssertEqual(try PageCodec.decode(map(MapCodec.maxEntries), type: .map).count, 1)
        XCTAssertThrowsError(try PageCodec.decode(map(MapCodec.maxEntries + 1), type: .map)) {
            XCTAssertTrue("\($0)".contains("implausible map entry count"), "\($0)")
        }
        let forged: [UInt8] = [0x00, 0xd9, 0xd9, 0x78, 0x00, 0x06, 0x02, 0x10, 0x00, 0x00, 0x02]   // the fuzz seed, past its type byte
        XCTAssertThrowsError(try PageCodec.decode(forged, type: .map))
    }

    func testOneKeyOfAMapPageIsEachRowsLookup() throws {
        let composed = "t\u{E9}am", decomposed = "te\u{301}am"
        var rng = SystemRandomNumberGenerator()
        for (rows, keyCount, valueCount, nulls) in [(1, 1, 1, false), (9, 2, 3, true), (500, 3, 4, true), (700, 40, 600, false), (300, 5, 290, true)] {
            let keys = (0..<keyCount).map { $0 == 1 ? composed : "k\($0)" } + ["team"]
            var maps: [[String: String]] = [], validity: [Bool] = []
            for _ in 0..<rows {
                validity.append(!nulls || Int.random(in: 0..<5, using: &rng) > 0)
                var m: [String: String] = [:]
                for k in keys where Bool.random(using: &rng) { m[k] = "v\(Int.random(in: 0..<valueCount, using: &rng))" }
                maps.append(validity.last! ? m : [:])
            }
            let page = PageCodec.encode(ColumnVector(.map(maps), validity: nulls ? validity : nil), type: .map)
            for key in keys + [decomposed, "absent", ""] {
                let column = try PageCodec.decodeMapKey(page, key: key)
                let got: [String?]
                switch column {
                case .dictionary(let codes, let entries, let valid):
                    got = codes.indices.map { valid?[$0] ?? true ? entries[Int(codes[$0])] : nil }
                case .vector(let v):
                    guard case .string(let strings) = v.values else { return XCTFail("not strings") }
                    got = strings.indices.map { v.validity?[$0] ?? true ? strings[$0] : nil }
                default: return XCTFail("unexpected column for \(key)")
                }
                // Byte equality: "team" spelled with a composed or decomposed é are different keys.
                XCTAssertEqual(got.map { $0.map { Array($0.utf8) } }, maps.indices.map { i in
                    (nulls && !validity[i]) ? nil : maps[i].first { Array($0.key.utf8) == Array(key.utf8) }.map { Array($0.value.utf8) }
                }, "rows \(rows), key \(key)")
            }
        }
        // Maps all empty, and keys too varied for a dictionary, none of them the one asked for:
        // all NULL, as codes (grouping by it then takes the dictionary path, not a value a row).
        let empty = PageCodec.encode(ColumnVector(.map([[String: String]](repeating: [:], count: 1000)), validity: nil), type: .map)
        let varied = PageCodec.encode(ColumnVector(.map((0..<1000).map { ["k\($0)-" + String(repeating: "x", count: $0 % 50): "v"] }), validity: nil), type: .map)
        for page in [empty, varied] {
            guard case .dictionary(_, _, let valid) = try PageCodec.decodeMapKey(page, key: "team") else { XCTFail("not codes"); continue }
            XCTAssertEqual(valid, [Bool](repeating: false, count: 1000))
        }
    }

    /// Dictionary entries are made into strings without a check per entry only when every byte
    /// is ASCII: a non-ASCII entry keeps its exact bytes, and invalid UTF-8 is an error.
    func testDictionaryEntriesKeepTheirBytesAndInvalidUTF8IsRejected() throws {
        for length in 0...17 {
            for at in 0..<max(length, 1) {
                var b = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                if length > 0 { b[at] = 0xC3 }
                XCTAssertEqual(b.withUnsafeBufferPointer(UTF8Bytes.isASCII), length == 0, "length \(length), high byte at \(at)")
            }
        }
        let mixed = (0..<300).map { ["user-1", "usér-2", "user-3", "模型"][$0 % 4] }
        var w = ByteWriter()
        StringCodec.encode(mixed, into: &w)
        var r = ByteReader(w.bytes)
        XCTAssertEqual(try StringCodec.decode(&r, count: mixed.count).map { Array($0.utf8) }, mixed.map { Array($0.utf8) })

        // The same page with "usér-2"'s é (C3 A9) made a lone continuation byte.
        var bad = w.bytes
        let at = try XCTUnwrap(bad.indices.first { bad[$0] == 0xC3 && bad[$0 + 1] == 0xA9 })
        bad[at] = 0xA9
        var rb = ByteReader(bad)
        XCTAssertThrowsError(try StringCodec.decode(&rb, count: mixed.count)) { error in
            XCTAssertTrue("\(error)".contains("invalid UTF-8"), "\(error)")
        }
    }

    func testPagesNeverTrapOnGarbage() {
        var rng = TestSpans(seed: 3)
        var spans = rng.spans(300)
        spans[0].properties = ["k": "v"]
        let columns = SpanColumns.columns(of: spans)
        for (c, col) in columns.enumerated() {
            let type = SegmentSchema.columns[c].type
            let page = PageCodec.encode(col, type: type)
            XCTAssertEqual(PageCodec.encode(try PageCodec.decode(page, type: type), type: type), page)
            for _ in 0..<40 {
                var bad = page
                bad[Int(rng.next() % UInt64(bad.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                _ = try? PageCodec.decode(bad, type: type)          // may fail, must not crash
                _ = try? PageCodec.decode(Array(page.prefix(Int(rng.next() % UInt64(page.count)))), type: type)
            }
        }
    }
}
