/// Integer column encoding: constant, frame-of-reference bit-packing, or delta + bit-packing,
/// whichever is smallest. All arithmetic wraps, so any Int64 sequence round-trips.
///
/// ```swift
/// var w = ByteWriter()
/// IntCodec.encode([1_700_000_000_000_000, 1_700_000_000_000_250], into: &w)   // delta mode
/// ```
public enum IntCodec {
    enum Mode: UInt8 { case constant = 0, frameOfReference = 1, delta = 2 }

    public static func encode(_ values: [Int64], into w: inout ByteWriter) {
        values.withUnsafeBufferPointer { encode($0, into: &w) }
    }

    public static func encode(_ v: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) {
        let n = v.count
        guard n > 0 else { w.u8(Mode.constant.rawValue); w.svarint(0); return }
        var lo = v[0], hi = v[0]
        var dlo = Int64.max, dhi = Int64.min
        for i in 1..<max(n, 1) where i < n {
            let x = v[i]
            if x < lo { lo = x }
            if x > hi { hi = x }
            let d = x &- v[i - 1]
            if d < dlo { dlo = d }
            if d > dhi { dhi = d }
        }
        if lo == hi { w.u8(Mode.constant.rawValue); w.svarint(lo); return }
        let forWidth = BitPacking.width(of: UInt64(bitPattern: hi &- lo))
        let deltaWidth = n > 1 ? BitPacking.width(of: UInt64(bitPattern: dhi &- dlo)) : 64
        if deltaWidth < forWidth {
            w.u8(Mode.delta.rawValue); w.svarint(v[0]); w.svarint(dlo); w.u8(UInt8(deltaWidth))
            BitPacking.pack(count: n - 1, width: deltaWidth, into: &w) { UInt64(bitPattern: (v[$0 + 1] &- v[$0]) &- dlo) }
        } else {
            w.u8(Mode.frameOfReference.rawValue); w.svarint(lo); w.u8(UInt8(forWidth))
            BitPacking.pack(count: n, width: forWidth, into: &w) { UInt64(bitPattern: v[$0] &- lo) }
        }
    }

    public static func decode(_ r: inout ByteReader, count: Int) throws -> [Int64] {
        guard let mode = Mode(rawValue: try r.u8()) else { throw FormatError("unknown integer encoding") }
        switch mode {
        case .constant:
            return [Int64](repeating: try r.svarint(), count: count)
        case .frameOfReference:
            let lo = try r.svarint()
            let width = Int(try r.u8())
            var out = [Int64](repeating: 0, count: count)
            try out.withUnsafeMutableBufferPointer { (o: inout UnsafeMutableBufferPointer<Int64>) throws in
                let p = o
                try BitPacking.unpack(&r, count: count, width: width) { i, x in p[i] = lo &+ Int64(bitPattern: x) }
            }
            return out
        case .delta:
            guard count > 0 else { throw FormatError("delta encoding with no values") }
            let first = try r.svarint()
            let dlo = try r.svarint()
            let width = Int(try r.u8())
            var out = [Int64](repeating: 0, count: count)
            try out.withUnsafeMutableBufferPointer { (o: inout UnsafeMutableBufferPointer<Int64>) throws in
                let p = o
                p[0] = first
                try BitPacking.unpack(&r, count: count - 1, width: width) { i, x in
                    p[i + 1] = p[i] &+ (dlo &+ Int64(bitPattern: x))
                }
            }
            return out
        }
    }
}
