/// Strings given as codes into a `StringInterner`: the write path interns dictionary columns as
/// it reads records, so their bytes are never copied per row. Encodes exactly what
/// `encode(_: ByteStrings, into:)` encodes for the same strings (a test checks it byte for byte):
/// hex when every value is lowercase hex of one length and not mostly repeated, plain when more
/// than half are distinct, else a byte-sorted dictionary when it is smaller than plain.
///
/// ```swift
/// var d = StringInterner()
/// let codes = ["a", "b", "a"].map { UInt32(d.code(of: $0)) }
/// codes.withUnsafeBufferPointer { StringCodec.encode(codes: $0, dictionary: d, into: &w) }
/// ```
extension StringCodec {
    /// `checkHex: false` when the caller already looked at the values for hex (the byte path).
    static func encode(codes: UnsafeBufferPointer<UInt32>, dictionary d: borrowing StringInterner, checkHex: Bool = true,
                       into w: inout ByteWriter) -> ZoneBounds {
        let n = codes.count
        // The entries this page uses, numbered in first-seen order; the dictionary may hold more.
        var local = [Int32](repeating: -1, count: d.count)
        var used: [Int] = []
        var firstDistinct = 0                      // distinct among the first 1,024 values
        var valueBytes = 0
        for i in 0..<n {
            let c = Int(codes[i])
            valueBytes &+= d.length(c)
            if local[c] < 0 { local[c] = Int32(used.count); used.append(c) }
            if i == min(n, 1024) - 1 { firstDistinct = used.count }
        }
        if checkHex, let words = hexWords(count: used.count, { d.bytes(used[$0]) }), firstDistinct * 4 >= min(n, 1024) {
            var cols = [[UInt64]](repeating: [], count: words.count)
            for k in 0..<words.count {
                cols[k].reserveCapacity(n)
                for i in 0..<n { cols[k].append(words[k][Int(local[Int(codes[i])])]) }
            }
            return encodeHex(cols, length: words.count * 16, into: &w)
        }
        let order = d.sortedOrder(of: used)
        let bounds = order.isEmpty ? ZoneBounds.none : bounds(min: d.string(order[0]), max: d.string(order[order.count - 1]))
        let plainBytes = valueBytes + n
        let width = BitPacking.width(of: UInt64(max(used.count - 1, 0)))
        let dictBytes = used.reduce(0) { $0 + d.length($1) } + used.count
        guard used.count <= max(16, n / 2), dictBytes + BitPacking.byteCount(count: n, width: width) < plainBytes else {
            w.u8(Mode.plain.rawValue)
            IntCodec.encode((0..<n).map { Int64(d.length(Int(codes[$0]))) }, into: &w)
            w.bytes.reserveCapacity(w.count + valueBytes)
            for i in 0..<n { w.bytes.append(contentsOf: d.bytes(Int(codes[i]))) }
            return bounds
        }
        var rank = [UInt32](repeating: 0, count: d.count)
        for (r, e) in order.enumerated() { rank[e] = UInt32(r) }
        w.u8(Mode.dictionary.rawValue)
        w.varint(UInt64(order.count))
        IntCodec.encode(order.map { Int64(d.length($0)) }, into: &w)
        for e in order { w.bytes.append(contentsOf: d.bytes(e)) }
        w.u8(UInt8(width))
        BitPacking.pack(count: n, width: width, into: &w) { UInt64(rank[Int(codes[$0])]) }
        return bounds
    }
}
