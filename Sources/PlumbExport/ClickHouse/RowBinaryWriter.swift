/// ClickHouse's RowBinary format (ClickHouse docs, "Formats: RowBinary"): values one after
/// another, little-endian; strings as a LEB128 length and bytes; `Nullable` as one byte (1: NULL)
/// before the value; `Map` as a LEB128 count of key, value pairs; `DateTime64(6)` as an Int64
/// of microseconds; `Bool` as a UInt8; `LowCardinality(T)` as T.
///
/// ```swift
/// var w = RowBinaryWriter()
/// w.string("openai"); w.nullableInt64(nil); w.dateTime64(1_700_000_000_000_000)
/// ```
public struct RowBinaryWriter: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    @inline(__always) mutating func varint(_ v: Int) {
        var x = UInt64(v)
        while x >= 0x80 { bytes.append(UInt8(x & 0x7F) | 0x80); x >>= 7 }
        bytes.append(UInt8(x))
    }

    @inline(__always) public mutating func int64(_ v: Int64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) public mutating func float64(_ v: Double) {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { u in
            varint(u.count)
            bytes.append(contentsOf: u)
        }
    }

    /// Microseconds since the epoch.
    @inline(__always) public mutating func dateTime64(_ micros: Int64) { int64(micros) }

    public mutating func nullableString(_ s: String?) {
        guard let s else { bytes.append(1); return }
        bytes.append(0); string(s)
    }

    public mutating func nullableInt64(_ v: Int64?) {
        guard let v else { bytes.append(1); return }
        bytes.append(0); int64(v)
    }

    public mutating func nullableFloat64(_ v: Double?) {
        guard let v else { bytes.append(1); return }
        bytes.append(0); float64(v)
    }

    /// Keys in sorted order, so the same map always makes the same bytes.
    public mutating func map(_ m: [String: String]) {
        varint(m.count)
        for k in m.keys.sorted() { string(k); string(m[k]!) }
    }
}
