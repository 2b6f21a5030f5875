import PlumbCore

/// One column chunk of one row group, serialized: flags, row count, optional validity bitmap, then
/// the type's encoding; the whole body LZ4-compressed when that saves at least an eighth.
/// Layout in `schemas/segment-format.md` ("Pages").
public enum PageCodec {
    static let hasValidity: UInt8 = 1
    static let compressed: UInt8 = 2

    public static func encode(_ column: ColumnVector, type: ColumnType) -> [UInt8] {
        encodeWithZone(column, type: type).page
    }

    /// The page and the zone map of its values (string bounds come from the encoder's own pass).
    public static func encodeWithZone(_ column: ColumnVector, type: ColumnType) -> (page: [UInt8], zone: ZoneMap) {
        encode(PageValues(column), validity: column.validity, rows: column.count)
    }

    /// A page of `rows` rows from its present values and, when some are null, which rows are.
    public static func encode(_ values: PageValues, validity: [Bool]?, rows: Int) -> (page: [UInt8], zone: ZoneMap) {
        encode(rows: rows, present: values.count, validity: validity) { body in
            switch values {
            case .int(let v): IntCodec.encode(v, into: &body); return values.bounds
            case .double(let v): DoubleCodec.encode(v, into: &body); return values.bounds
            case .bool(let v):
                BitPacking.pack(count: v.count, width: 1, into: &body) { v[$0] ? 1 : 0 }
                return values.bounds
            case .strings(let v): return StringCodec.encode(v, into: &body)
            case .map(let counts, let keys, let vals):
                IntCodec.encode(counts, into: &body)
                StringCodec.encode(keys, into: &body)
                StringCodec.encode(vals, into: &body)
                return .none
            }
        }
    }

    /// A page of `rows` rows, `present` of them with a value, whose values `writeValues` encodes
    /// (returning their zone bounds): the frame every page shares, for encoders of any input.
    static func encode(rows: Int, present: Int, validity: [Bool]?,
                       writeValues: (inout ByteWriter) -> ZoneBounds) -> (page: [UInt8], zone: ZoneMap) {
        var body = ByteWriter(capacity: rows * 2)
        var flags: UInt8 = 0
        if let validity, present < rows {
            flags |= hasValidity
            BitPacking.pack(count: validity.count, width: 1, into: &body) { validity[$0] ? 1 : 0 }
        }
        let bounds = writeValues(&body)
        var out = ByteWriter(capacity: body.count + 16)
        let packed = body.count >= 64 ? LZ4.compress(body.bytes) : []
        if !packed.isEmpty, packed.count < body.count - body.count / 8 {
            out.u8(flags | compressed); out.varint(UInt64(rows)); out.varint(UInt64(body.count))
            out.append(packed)
        } else {
            out.u8(flags); out.varint(UInt64(rows))
            out.append(body.bytes)
        }
        return (out.bytes, ZoneMap(bounds: bounds, nullCount: rows - present, rowCount: rows))
    }

    /// 16 row groups of the default size: more than any page Plumb writes.
    static let maxPageRows = 1 << 20

    public static func decode(_ page: [UInt8], type: ColumnType) throws -> ColumnVector {
        var head = ByteReader(page)
        let flags = try head.u8()
        guard flags & ~(hasValidity | compressed) == 0 else { throw FormatError("unknown page flags \(flags)") }
        let rows = try head.int("row count")
        // A row group holds 65,536 rows by default (`SegmentWriter.defaultRowGroupSize`): a page
        // claiming many more is forged, and its constant or run-length codes would make millions
        // of values from a few bytes (the fuzz target `page` found a 12-byte page taking 20 s).
        guard rows <= Self.maxPageRows else { throw FormatError("implausible page row count \(rows)") }
        var r: ByteReader
        if flags & compressed != 0 {
            let size = try head.int("uncompressed size")
            guard size <= 1 << 30 else { throw FormatError("implausible page size \(size)") }
            do {
                r = ByteReader(try LZ4.decompress(Array(page[head.pos...]), originalSize: size))
            } catch { throw FormatError("\(error)") }
        } else {
            r = ByteReader(page, from: head.pos)
        }
        var validity: [Bool]? = nil
        var presentCount = rows
        if flags & hasValidity != 0 {
            let v = try BitPacking.unpackBools(&r, count: rows)
            presentCount = BitPacking.countTrue(v)
            validity = v
        }
        func spread<T>(_ dense: [T], _ fill: T) -> [T] {
            guard let validity else { return dense }
            guard !dense.isEmpty else { return [T](repeating: fill, count: rows) }
            let last = dense.count - 1
            return [T](unsafeUninitializedCapacity: rows) { o, n in
                dense.withUnsafeBufferPointer { d in validity.withUnsafeBufferPointer { ok in
                    // Branch-free: every row reads a value, null rows take `fill`.
                    var k = 0
                    for i in 0..<rows {
                        let present = ok[i]
                        o.initializeElement(at: i, to: present ? d[min(k, last)] : fill)
                        k += present ? 1 : 0
                    }
                } }
                n = rows
            }
        }
        let values: ColumnValues
        switch type {
        // Integers through the scans' `spread` (eight rows a step with AVX-512).
        case .int, .timestamp: values = .int(Self.spread(try IntCodec.decode(&r, count: presentCount), validity, rows))
        case .double: values = .double(spread(try DoubleCodec.decode(&r, count: presentCount), 0))
        case .bool:
            values = .bool(spread(try BitPacking.unpackBools(&r, count: presentCount), false))
        case .string: values = .string(spread(try StringCodec.decode(&r, count: presentCount), ""))
        case .map: values = .map(spread(try MapCodec.decode(&r, count: presentCount), [:]))
        }
        guard r.remaining == 0 else { throw FormatError("\(r.remaining) stray bytes after page values") }
        return ColumnVector(values, validity: validity)
    }
}

/// `map<string,string>` columns: entry counts, then all keys, then all values (keys sorted by
/// bytes within each map; encoded by `PageCodec.encode` from `PageValues.map`).
enum MapCodec {
    /// The entry count of each of `count` maps, and their sum (each checked against the bytes left).
    static func entryCounts(_ r: inout ByteReader, _ count: Int) throws -> (counts: [Int64], total: Int) {
        let counts = try IntCodec.decode(&r, count: count)
        var total = 0
        for c in counts {
            // A span carries at most 64 properties (the proxy's and import's bound).
            guard c >= 0, c <= Int64(r.remaining), c <= Int64(maxEntries) else { throw FormatError("implausible map entry count \(c)") }
            total += Int(c)
        }
        return (counts, total)
    }

    static let maxEntries = 64

    static func decode(_ r: inout ByteReader, count: Int) throws -> [[String: String]] {
        let (counts, total) = try entryCounts(&r, count)
        let keys = try StringCodec.decode(&r, count: total)
        let values = try StringCodec.decode(&r, count: total)
        var out = [[String: String]](); out.reserveCapacity(count)
        var k = 0
        for c in counts {
            var m = [String: String](minimumCapacity: Int(c))
            for _ in 0..<Int(c) { m[keys[k]] = values[k]; k += 1 }
            out.append(m)
        }
        return out
    }
}
