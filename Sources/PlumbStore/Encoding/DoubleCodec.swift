/// Double column encoding. Values that are exact decimals with at most 15 fractional digits
/// (latencies in ms with µs precision, most prices) are stored as scaled integers through
/// `IntCodec`; anything else (NaN, ±inf, -0.0, binary fractions) as plain IEEE 754.
public enum DoubleCodec {
    enum Mode: UInt8 { case decimal = 0, plain = 1 }

    static let powers: [Double] = (0...15).map { e in (0..<e).reduce(1.0) { acc, _ in acc * 10 } }

    public static func encode(_ v: [Double], into w: inout ByteWriter) {
        if let e = decimalExponent(v) {
            let p = powers[e]
            w.u8(Mode.decimal.rawValue); w.u8(UInt8(e))
            IntCodec.encode(v.map { Int64(($0 * p).rounded()) }, into: &w)
            return
        }
        w.u8(Mode.plain.rawValue)
        w.bytes.reserveCapacity(w.bytes.count + v.count * 8)
        for x in v { w.u64(x.bitPattern) }
    }

    /// The smallest exponent e with `Double(Int64(x * 10^e)) / 10^e == x` bit for bit, for every x.
    static func decimalExponent(_ v: [Double]) -> Int? {
        var e = 0
        var i = 0
        while i < v.count {
            let x = v[i]
            if fits(x, e) { i += 1; continue }
            // Find the exponent this value needs, then re-check everything before it.
            guard x.isFinite, x.sign == .plus || x != 0 else { return nil }
            var found: Int?
            for k in (e + 1)..<powers.count where fits(x, k) { found = k; break }
            guard let k = found else { return nil }
            e = k
            i = 0
        }
        return e
    }

    @inline(__always) static func fits(_ x: Double, _ e: Int) -> Bool {
        let s = x * powers[e]
        guard s.magnitude < 9.0e15 else { return false }
        let r = s.rounded()
        let back = Double(Int64(r)) / powers[e]
        return back.bitPattern == x.bitPattern
    }

    public static func decode(_ r: inout ByteReader, count: Int) throws -> [Double] {
        guard let mode = Mode(rawValue: try r.u8()) else { throw FormatError("unknown double encoding") }
        switch mode {
        case .decimal:
            let e = Int(try r.u8())
            guard e < powers.count else { throw FormatError("decimal exponent \(e) out of range") }
            let p = powers[e]
            return try IntCodec.decode(&r, count: count).map { Double($0) / p }
        case .plain:
            try r.need(count * 8, "plain doubles")
            // Little-endian IEEE 754 on disk, as in memory here: one copy, not a read per value.
            let start = r.pos
            let out = [Double](unsafeUninitializedCapacity: count) { o, n in
                r.bytes.withUnsafeBytes { raw in
                    for i in 0..<count {
                        o[i] = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self)))
                    }
                }
                n = count
            }
            r.pos += count * 8
            return out
        }
    }
}
