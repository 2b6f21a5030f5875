/// Packs unsigned integers of a fixed bit width into a little-endian bit stream, and back.
///
/// ```swift
/// var w = ByteWriter()
/// BitPacking.pack([3, 1, 2], width: 2, into: &w)    // one byte
/// ```
public enum BitPacking {
    @inline(__always) public static func width(of maxValue: UInt64) -> Int {
        maxValue == 0 ? 0 : 64 - maxValue.leadingZeroBitCount
    }

    public static func byteCount(count: Int, width: Int) -> Int { (count * width + 7) / 8 }

    public static func pack(count: Int, width: Int, into w: inout ByteWriter, _ value: (Int) -> UInt64) {
        guard width > 0, count > 0 else { return }
        let total = byteCount(count: count, width: width)
        let start = w.bytes.count
        w.bytes.append(contentsOf: repeatElement(0, count: total + 8))
        w.bytes.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress! + start
            var acc: UInt64 = 0
            var bits = 0
            var out = 0
            let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
            for i in 0..<count {
                let v = value(i) & mask
                acc |= v << UInt64(bits)
                let used = bits + width
                if used >= 64 {
                    base.storeBytes(of: acc.littleEndian, toByteOffset: out, as: UInt64.self)
                    out += 8
                    acc = bits == 0 ? 0 : v >> UInt64(64 - bits)
                    bits = used - 64
                } else {
                    bits = used
                }
            }
            if bits > 0 { base.storeBytes(of: acc.littleEndian, toByteOffset: out, as: UInt64.self) }
        }
        w.bytes.removeLast(8)
    }

    /// Reads `count` values of `width` bits starting at `reader.pos`; advances past them.
    public static func unpack(_ r: inout ByteReader, count: Int, width: Int, _ sink: (Int, UInt64) -> Void) throws {
        var values = [UInt64](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { try unpack(&r, count: count, width: width, into: $0.baseAddress) }
        for i in 0..<count { sink(i, values[i]) }
    }

    /// The values as `[UInt32]` (dictionary codes); fails if one does not fit.
    public static func unpackUInt32(_ r: inout ByteReader, count: Int, width: Int) throws -> [UInt32] {
        guard width <= 32 else { throw FormatError("bit width \(width) over 32 for codes") }
        // Every element is written below, so the array is not zeroed first.
        return try [UInt32](unsafeUninitializedCapacity: count) { o, initialized in
            try withValues(&r, count: count, width: width) { i, v in o[i] = UInt32(truncatingIfNeeded: v) }
            initialized = count
        }
    }

    /// The largest code (0 for none): a plain loop over the buffer, which the compiler vectorizes.
    public static func largest(_ codes: [UInt32]) -> UInt32 {
        codes.withUnsafeBufferPointer { b in
            var m: UInt32 = 0
            for c in b { m = Swift.max(m, c) }
            return m
        }
    }

    /// How many are true: eight at a time, as the bit count of a 64-bit word of 0/1 bytes.
    public static func countTrue(_ v: [Bool]) -> Int {
        v.withUnsafeBytes { b in
            var n = 0, i = 0
            while i + 8 <= b.count { n &+= b.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount; i += 8 }
            while i < b.count { n &+= Int(b[i]); i += 1 }
            return n
        }
    }

    /// For each byte value, its eight bits as eight bytes of 0 or 1 (least significant bit first).
    private static let bitBytes: [UInt64] = (0..<256).map { (b: Int) -> UInt64 in
        var word: UInt64 = 0
        for bit in 0..<8 where b & (1 << bit) != 0 { word |= 1 << UInt64(8 * bit) }
        return word
    }

    /// One-bit values as `[Bool]` (validity bitmaps, boolean columns): eight at a time, a byte
    /// of the bitmap looked up and stored as one 64-bit word.
    public static func unpackBools(_ r: inout ByteReader, count: Int) throws -> [Bool] {
        let n = byteCount(count: count, width: 1)
        try r.need(n, "bit-packed values")
        let start = r.pos
        let out = r.bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            return [Bool](unsafeUninitializedCapacity: count) { o, initialized in
                guard let dst = o.baseAddress.map(UnsafeMutableRawPointer.init) else { initialized = 0; return }
                bitBytes.withUnsafeBufferPointer { table in
                    let whole = count >> 3
                    for k in 0..<whole {
                        dst.storeBytes(of: table[Int(base.load(fromByteOffset: k, as: UInt8.self))].littleEndian, toByteOffset: k << 3, as: UInt64.self)
                    }
                    for i in (whole << 3)..<count { o[i] = (base.load(fromByteOffset: i >> 3, as: UInt8.self) >> UInt8(i & 7)) & 1 != 0 }
                }
                initialized = count
            }
        }
        r.pos += n
        return out
    }

    /// Bit-packed values left in place, read one at a time (for the few rows a scan keeps).
    public struct Packed: Sendable {
        let bytes: [UInt8]
        let start: Int
        let byteCount: Int
        public let width: Int
        public let count: Int

        /// Takes the packed values at `r.pos` and advances past them.
        init(_ r: inout ByteReader, count: Int, width: Int) throws {
            guard width <= 32 else { throw FormatError("bit width \(width) over 32 for codes") }
            let n = BitPacking.byteCount(count: count, width: width)
            try r.need(n, "bit-packed values")
            bytes = r.bytes; start = r.pos; byteCount = n; self.width = width; self.count = count
            r.pos += n
        }

        public subscript(i: Int) -> UInt32 {
            guard width > 0 else { return 0 }
            let bit = i * width
            var v: UInt64 = 0
            bytes.withUnsafeBytes { raw in
                let first = bit >> 3
                var k = 0
                while k < 8 && first + k < byteCount {
                    v |= UInt64(raw[start + first + k]) << UInt64(8 * k)
                    k += 1
                }
            }
            return UInt32(truncatingIfNeeded: (v >> UInt64(bit & 7)) & ((1 << UInt64(width)) - 1))
        }

        public func all() throws -> [UInt32] {
            var r = ByteReader(bytes, from: start)
            return try BitPacking.unpackUInt32(&r, count: count, width: width)
        }
    }

    /// Unpacks into `out` (room for `count` values).
    public static func unpack(_ r: inout ByteReader, count: Int, width: Int, into out: UnsafeMutablePointer<UInt64>?) throws {
        guard let out else { return }
        try withValues(&r, count: count, width: width) { i, v in out[i] = v }
    }

    /// The decoding loop, inlined into each caller with its own store: one unaligned 64-bit load
    /// per value while 8 bytes remain, byte by byte at the tail.
    @inline(__always)
    static func withValues(_ r: inout ByteReader, count: Int, width: Int, _ store: (Int, UInt64) -> Void) throws {
        guard width > 0 else {
            for i in 0..<count { store(i, 0) }
            return
        }
        guard width <= 64 else { throw FormatError("bit width \(width) over 64") }
        let n = byteCount(count: count, width: width)
        try r.need(n, "bit-packed values")
        let start = r.pos
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        r.bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            @inline(__always) func load(_ byte: Int) -> UInt64 {
                if byte + 8 <= n { return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: byte, as: UInt64.self)) }
                var v: UInt64 = 0
                var k = 0
                while byte + k < n && k < 8 { v |= UInt64(base.load(fromByteOffset: byte + k, as: UInt8.self)) << UInt64(8 * k); k += 1 }
                return v
            }
            // Values whose 8-byte window lies inside the buffer take the fast path.
            let fast = width <= 56 ? max(0, min(count, ((n - 8) * 8) / width + 1)) : 0
            var bit = 0
            var i = 0
            while i < fast {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self))
                store(i, (word >> UInt64(bit & 7)) & mask)
                bit += width
                i += 1
            }
            while i < count {
                let byte = bit >> 3, shift = bit & 7
                var v = load(byte) >> UInt64(shift)
                if shift + width > 64 { v |= load(byte + 8) << UInt64(64 - shift) }
                store(i, v & mask)
                bit += width
                i += 1
            }
        }
        r.pos += n
    }
}
