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
        var body = ByteWriter(capacity: column.count * 2)
        var flags: UInt8 = 0
        var present: [Int]? = nil
        if let validity = column.validity {
            flags |= hasValidity
            BitPacking.pack(count: validity.count, width: 1, into: &body) { validity[$0] ? 1 : 0 }
            present = validity.indices.filter { validity[$0] }
        }
        func pick<T>(_ v: [T]) -> [T] { present.map { idx in idx.map { v[$0] } } ?? v }
        var zone: ZoneMap? = nil
        switch column.values {
        case .int(let v): IntCodec.encode(pick(v), into: &body)
        case .double(let v): DoubleCodec.encode(pick(v), into: &body)
        case .bool(let v):
            let p = pick(v)
            BitPacking.pack(count: p.count, width: 1, into: &body) { p[$0] ? 1 : 0 }
        case .string(let v):
            let bounds = StringCodec.encode(pick(v), into: &body)
            zone = ZoneMap(bounds: bounds, nullCount: column.nullCount, rowCount: column.count)
        case .map(let v): MapCodec.encode(pick(v), into: &body)
        }
        var out = ByteWriter(capacity: body.count + 16)
        let packed = body.count >= 64 ? LZ4.compress(body.bytes) : []
        if !packed.isEmpty, packed.count < body.count - body.count / 8 {
            out.u8(flags | compressed); out.varint(UInt64(column.count)); out.varint(UInt64(body.count))
            out.append(packed)
        } else {
            out.u8(flags); out.varint(UInt64(column.count))
            out.append(body.bytes)
        }
        return (out.bytes, zone ?? ZoneMap.of(column))
    }

    public static func decode(_ page: [UInt8], type: ColumnType) throws -> ColumnVector {
        var head = ByteReader(page)
        let flags = try head.u8()
        guard flags & ~(hasValidity | compressed) == 0 else { throw FormatError("unknown page flags \(flags)") }
        let rows = try head.int("row count")
        guard rows <= 1 << 24 else { throw FormatError("implausible page row count \(rows)") }
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
            presentCount = v.reduce(0) { $0 + ($1 ? 1 : 0) }
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
        case .int, .timestamp: values = .int(spread(try IntCodec.decode(&r, count: presentCount), 0))
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

/// `map<string,string>` columns: entry counts, then all keys, then all values (keys sorted by bytes).
enum MapCodec {
    static func encode(_ v: [[String: String]], into w: inout ByteWriter) {
        var keys: [String] = [], values: [String] = []
        IntCodec.encode(v.map { Int64($0.count) }, into: &w)
        for m in v {
            for k in m.keys.sorted(by: UTF8Bytes.less) {
                keys.append(k); values.append(m[k]!)
            }
        }
        StringCodec.encode(keys, into: &w)
        StringCodec.encode(values, into: &w)
    }

    /// The entry count of each of `count` maps, and their sum (each checked against the bytes left).
    static func entryCounts(_ r: inout ByteReader, _ count: Int) throws -> (counts: [Int64], total: Int) {
        let counts = try IntCodec.decode(&r, count: count)
        var total = 0
        for c in counts {
            guard c >= 0, c <= Int64(r.remaining) else { throw FormatError("implausible map entry count \(c)") }
            total += Int(c)
        }
        return (counts, total)
    }

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
