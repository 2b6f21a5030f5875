import CPlumbSupport
import PlumbCore

/// A decoded column chunk as the query engine wants it: dictionary-coded strings stay codes
/// (so filters and GROUP BY work on small integers and no string is built per row); everything
/// else as a `ColumnVector`.
/// The distinct keys of a map column chunk.
public struct MapKeys: RowCounted, Sendable {
    public var keys: Set<String>
    public var rowCount: Int
}

public enum ScanColumn: Sendable {
    case vector(ColumnVector)
    /// `codes[i]` indexes `entries` (null rows hold 0; `entries` is never empty).
    case dictionary(codes: [UInt32], entries: [String], validity: [Bool]?)
    /// Lowercase hex strings of one length (ids) as 64-bit words: `words[k][i]` is the k-th 16
    /// digits of row i (null rows hold 0). Equality on ids compares words, not strings.
    case hex(words: [[Int64]], length: Int, validity: [Bool]?)
    /// A DOUBLE page stored as decimals: value i is exactly `Double(scaled[i]) / 10^exponent`
    /// (null rows hold 0). Comparisons and sums can work on the integers.
    case decimal(scaled: [Int64], exponent: Int, validity: [Bool]?)
}

/// Decoded pages know their row count (checked against the footer).
protocol RowCounted { var rowCount: Int { get } }
extension ColumnVector: RowCounted { var rowCount: Int { count } }
extension ScanColumn: RowCounted {
    var rowCount: Int {
        switch self {
        case .vector(let v): v.count
        case .dictionary(let codes, _, _): codes.count
        case .hex(let words, _, _): words.first?.count ?? 0
        case .decimal(let scaled, _, _): scaled.count
        }
    }
}

extension StringCodec {
    /// Like `decode`, but a dictionary page comes back as codes and entries.
    static func decodeScan(_ r: inout ByteReader, count: Int) throws -> (codes: [UInt32], entries: [String])? {
        let start = r.pos
        guard try r.u8() == Mode.dictionary.rawValue else { r.pos = start; return nil }
        let k = try r.length("dictionary size")
        let entries = try readStrings(&r, lengths: try IntCodec.decode(&r, count: k))
        let width = Int(try r.u8())
        let codes = try BitPacking.unpackUInt32(&r, count: count, width: width)
        try checkCodes(codes, entryCount: entries.count)
        return (codes, entries.isEmpty ? [""] : entries)
    }
}

extension PageCodec {
    /// Decodes a page for a scan (see `ScanColumn`), for the rows in `rows` only (all when nil):
    /// strings and maps are built just for those rows.
    public static func decodeScan(_ page: [UInt8], type: ColumnType, rows selected: [Int]? = nil) throws -> ScanColumn {
        switch type {
        case .string:
            var (r, rows, validity, present) = try open(page)
            let strings = try StringPage.decode(&r, count: present)
            guard r.remaining == 0 else { throw FormatError("\(r.remaining) stray bytes after page values") }
            if let selected, selected.contains(where: { $0 >= rows }) { throw FormatError("page has \(rows) rows, fewer than the footer's") }
            // A page of NULLs (an error column on a healthy day) comes out as codes, so that
            // dictionary paths (IN, =, GROUP BY) take it, not a string per row.
            if selected == nil, present == 0 {
                return .dictionary(codes: [UInt32](repeating: 0, count: rows), entries: [""], validity: validity)
            }
            if selected == nil, case .dictionary(let packed, let entries) = strings.storage {
                let codes = try packed.all()
                try StringCodec.checkCodes(codes, entryCount: entries.count)
                return .dictionary(codes: spread(codes, validity, rows), entries: entries, validity: validity)
            }
            if selected == nil, case .hex(let words, let length) = strings.storage {
                return .hex(words: words.map { spread($0, validity, rows) }, length: length, validity: validity)
            }
            guard validity != nil else { return try strings.column(rows: selected, validity: nil) { $0 } }
            let index = presentIndex(validity, rows)
            return try strings.column(rows: selected, validity: validity) { index[$0] }
        case .double where selected == nil:
            var (r, rows, validity, present) = try open(page)
            guard try r.u8() == DoubleCodec.Mode.decimal.rawValue else { return .vector(try decode(page, type: type)) }
            let e = Int(try r.u8())
            guard e < DoubleCodec.powers.count else { throw FormatError("decimal exponent \(e) out of range") }
            let dense = try IntCodec.decode(&r, count: present)
            guard r.remaining == 0 else { throw FormatError("\(r.remaining) stray bytes after page values") }
            return .decimal(scaled: spread(dense, validity, rows), exponent: e, validity: validity)
        case .map:
            guard let selected else { return .vector(try decode(page, type: type)) }
            var (r, rows, validity, present) = try open(page)
            let (counts, _) = try MapCodec.entryCounts(&r, present)
            var starts = [Int](repeating: 0, count: present + 1)
            for (i, c) in counts.enumerated() { starts[i + 1] = starts[i] + Int(c) }
            let keys = try StringPage.decode(&r, count: starts[present])
            let values = try StringPage.decode(&r, count: starts[present])
            guard r.remaining == 0 else { throw FormatError("\(r.remaining) stray bytes after page values") }
            if selected.contains(where: { $0 >= rows }) { throw FormatError("page has \(rows) rows, fewer than the footer's") }
            let index = presentIndex(validity, rows)
            var out: [[String: String]] = []
            var valid: [Bool] = []
            for row in selected {
                let present = validity?[row] ?? true
                valid.append(present)
                var m: [String: String] = [:]
                if present {
                    let p = index[row]
                    for e in starts[p]..<starts[p + 1] { m[try keys.string(e)] = try values.string(e) }
                }
                out.append(m)
            }
            return .vector(ColumnVector(.map(out), validity: valid))
        default:
            let v = try decode(page, type: type)
            guard let selected else { return .vector(v) }
            guard selected.allSatisfy({ $0 < v.count }) else { throw FormatError("page has \(v.count) rows, fewer than the footer's") }
            return .vector(v.gather(selected))
        }
    }

    /// For each row, its index among the present (non-null) values.
    static func presentIndex(_ validity: [Bool]?, _ rows: Int) -> [Int] {
        guard let validity else { return Array(0..<rows) }
        var out = [Int](repeating: 0, count: rows)
        var k = 0
        for i in 0..<rows { out[i] = k; if validity[i] { k += 1 } }
        return out
    }

    /// The distinct keys of a `map` page, without decoding the values or building maps.
    public static func decodeMapKeys(_ page: [UInt8]) throws -> MapKeys {
        var (r, rows, _, present) = try open(page)
        let (_, total) = try MapCodec.entryCounts(&r, present)
        if let (codes, entries) = try StringCodec.decodeScan(&r, count: total) {
            var used = [Bool](repeating: false, count: entries.count)
            for c in codes { used[Int(c)] = true }
            return MapKeys(keys: Set(entries.indices.filter { used[$0] }.map { entries[$0] }), rowCount: rows)
        }
        return MapKeys(keys: Set(try StringCodec.decode(&r, count: total)), rowCount: rows)
    }

    /// The values of one key of a `map` page (NULL where a row lacks the key), as dictionary
    /// codes when the values are dictionary-coded: `properties['team']` without building a map
    /// per row.
    public static func decodeMapKey(_ page: [UInt8], key: String) throws -> ScanColumn {
        var (r, rows, validity, present) = try open(page)
        let (counts, total) = try MapCodec.entryCounts(&r, present)
        // Keys: which entries are `key` (compared once per dictionary entry when coded).
        // No row has the key (or no row has any entry): all NULL, values unread. As codes, so
        // that grouping and filtering by it take their dictionary paths, not a value per row.
        let allNull = ScanColumn.dictionary(codes: [UInt32](repeating: 0, count: rows), entries: [""],
                                            validity: [Bool](repeating: false, count: rows))
        let isKey: [Bool]
        if let (codes, entries) = try StringCodec.decodeScan(&r, count: total) {
            let hit = entries.map { UTF8Bytes.equal($0, key) }
            guard hit.contains(true) else { return allNull }
            isKey = codes.map { hit[Int($0)] }
        } else {
            isKey = try StringCodec.decode(&r, count: total).map { UTF8Bytes.equal($0, key) }
            guard isKey.contains(true) else { return allNull }
        }
        // One pass over the rows: a present row's entries are the next `counts[q]`; the last
        // entry holding the key gives the row its value.
        var valid = [Bool](repeating: false, count: rows)
        func each(_ take: (Int, Int) -> Void) {
            isKey.withUnsafeBufferPointer { hit in counts.withUnsafeBufferPointer { n in
                var e = 0, q = 0
                for row in 0..<rows where validity?[row] ?? true {
                    let end = e + Int(n[q]); q += 1
                    while e < end { if hit[e] { take(row, e) }; e += 1 }
                }
            } }
        }
        if let (codes, entries) = try StringCodec.decodeScan(&r, count: total) {
            var out = [UInt32](repeating: 0, count: rows)
            each { row, e in out[row] = codes[e]; valid[row] = true }
            return .dictionary(codes: out, entries: entries, validity: valid)
        }
        let values = try StringCodec.decode(&r, count: total)
        var out = [String](repeating: "", count: rows)
        each { row, e in out[row] = values[e]; valid[row] = true }
        return .vector(ColumnVector(.string(out), validity: valid))
    }

    /// The page body (decompressed) positioned after the validity bitmap, the row count, the
    /// validity, and how many rows are present.
    static func open(_ page: [UInt8]) throws -> (ByteReader, Int, [Bool]?, Int) {
        var head = ByteReader(page)
        let flags = try head.u8()
        guard flags & ~(hasValidity | compressed) == 0 else { throw FormatError("unknown page flags \(flags)") }
        let rows = try head.int("row count")
        guard rows <= 1 << 24 else { throw FormatError("implausible page row count \(rows)") }
        var r: ByteReader
        if flags & compressed != 0 {
            let size = try head.int("uncompressed size")
            guard size <= 1 << 30 else { throw FormatError("implausible page size \(size)") }
            do { r = ByteReader(try LZ4.decompress(Array(page[head.pos...]), originalSize: size)) } catch { throw FormatError("\(error)") }
        } else {
            r = ByteReader(page, from: head.pos)
        }
        var validity: [Bool]? = nil
        var present = rows
        if flags & hasValidity != 0 {
            let v = try BitPacking.unpackBools(&r, count: rows)
            present = BitPacking.countTrue(v)
            validity = v
        }
        return (r, rows, validity, present)
    }

    static func spread<T>(_ dense: [T], _ validity: [Bool]?, _ rows: Int) -> [T] where T: FixedWidthInteger {
        guard let validity else { return dense }
        guard !dense.isEmpty else { return [T](repeating: 0, count: rows) }
        let last = dense.count - 1
        return [T](unsafeUninitializedCapacity: rows) { o, n in
            dense.withUnsafeBufferPointer { d in validity.withUnsafeBufferPointer { ok in
                // Eight or sixteen rows at a time with AVX-512 where there is (`plumb_spread`); then
                // branch-free (nulls fall at random, a branch on each mispredicts): the value is
                // always loaded and masked to 0 for a null row, and k advances by the row's bit.
                var k = 0, start = 0
                if MemoryLayout<T>.size == 4 || MemoryLayout<T>.size == 8, ok.count >= rows {
                    var used = 0
                    start = plumb_spread(d.baseAddress, d.count, ok.baseAddress, rows, o.baseAddress, Int32(MemoryLayout<T>.size), &used)
                    k = used
                }
                for i in start..<rows {
                    let bit = Int(unsafeBitCast(ok[i], to: UInt8.self))
                    o.initializeElement(at: i, to: d[min(k, last)] & T(truncatingIfNeeded: 0 &- bit))
                    k &+= bit
                }
            } }
            n = rows
        }
    }
}

extension SegmentReader {
    /// One column chunk for a query scan: checksummed, dictionary strings as codes, and only the
    /// rows in `rows` (all when nil).
    public func scan(rowGroup g: Int, column c: Int, rows: [Int]? = nil) throws -> ScanColumn {
        let expected = rows?.count ?? footer.rowGroups[g].rowCount
        return try decodeChecked(rowGroup: g, column: c, expectedRows: expected) {
            try PageCodec.decodeScan($0, type: footer.columns[c].type, rows: rows)
        }
    }

    /// The keys `properties` holds in one row group.
    public func mapKeys(rowGroup g: Int, column c: Int) throws -> Set<String> {
        try decodeChecked(rowGroup: g, column: c) { try PageCodec.decodeMapKeys($0) }.keys
    }

    /// `properties['key']` for one row group, without decoding the maps.
    public func scanMapKey(rowGroup g: Int, column c: Int, key: String) throws -> ScanColumn {
        try decodeChecked(rowGroup: g, column: c) { try PageCodec.decodeMapKey($0, key: key) }
    }
}
