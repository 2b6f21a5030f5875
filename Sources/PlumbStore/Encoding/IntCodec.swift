/// Integer column encoding. The values, or their deltas, are shifted by their minimum into
/// unsigned residuals and bit-packed ("frame of reference"). When a few outliers would widen
/// every value (token counts, latencies), the packing is "patched": values are packed at a
/// narrower width and the outliers' high bits are listed apart. The smallest form wins.
/// All arithmetic wraps, so any Int64 sequence round-trips.
///
/// ```swift
/// var w = ByteWriter()
/// IntCodec.encode([1_700_000_000_000_000, 1_700_000_000_000_250], into: &w)   // delta mode
/// ```
public enum IntCodec {
    enum Mode: UInt8 { case constant = 0, frameOfReference = 1, delta = 2, patchedFrameOfReference = 3, patchedDelta = 4 }

    public static func encode(_ values: [Int64], into w: inout ByteWriter) {
        values.withUnsafeBufferPointer { encode($0, into: &w) }
    }

    public static func encode(_ v: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) {
        let n = v.count
        guard n > 0 else { w.u8(Mode.constant.rawValue); w.svarint(0); return }
        var lo = v[0], hi = v[0]
        var dlo = Int64.max
        for i in 1..<max(n, 1) where i < n {
            let x = v[i]
            if x < lo { lo = x }
            if x > hi { hi = x }
            let d = x &- v[i - 1]
            if d < dlo { dlo = d }
        }
        if lo == hi { w.u8(Mode.constant.rawValue); w.svarint(lo); return }
        let forPlan = Plan.best(count: n) { UInt64(bitPattern: v[$0] &- lo) }
        let deltaPlan = n > 1 ? Plan.best(count: n - 1) { UInt64(bitPattern: (v[$0 + 1] &- v[$0]) &- dlo) } : nil
        if let deltaPlan, deltaPlan.bytes < forPlan.bytes {
            w.u8(deltaPlan.patched ? Mode.patchedDelta.rawValue : Mode.delta.rawValue)
            w.svarint(v[0]); w.svarint(dlo)
            deltaPlan.write(into: &w) { UInt64(bitPattern: (v[$0 + 1] &- v[$0]) &- dlo) }
        } else {
            w.u8(forPlan.patched ? Mode.patchedFrameOfReference.rawValue : Mode.frameOfReference.rawValue)
            w.svarint(lo)
            forPlan.write(into: &w) { UInt64(bitPattern: v[$0] &- lo) }
        }
    }

    /// How to pack a run of unsigned residuals: a width, and whether outliers are patched.
    struct Plan {
        var width: Int
        var patched: Bool
        var bytes: Int
        var count: Int

        /// Chooses the width minimizing packed bytes plus about `2 + high bytes` per outlier.
        static func best(count n: Int, _ r: (Int) -> UInt64) -> Plan {
            var histogram = [Int](repeating: 0, count: 65)
            for i in 0..<n { histogram[BitPacking.width(of: r(i))] += 1 }
            let full = histogram.lastIndex { $0 > 0 } ?? 0
            var best = Plan(width: full, patched: false, bytes: BitPacking.byteCount(count: n, width: full), count: n)
            var above = 0
            for w in stride(from: full - 1, through: 0, by: -1) {
                above += histogram[w + 1]
                guard above * 16 <= n else { break }          // patch only a small minority
                let cost = BitPacking.byteCount(count: n, width: w) + 1 + above * (2 + (full - w + 7) / 8)
                if cost < best.bytes { best = Plan(width: w, patched: true, bytes: cost, count: n) }
            }
            return best
        }

        func write(into w: inout ByteWriter, _ r: (Int) -> UInt64) {
            w.u8(UInt8(width))
            BitPacking.pack(count: count, width: width, into: &w, r)
            guard patched else { return }
            var exceptions: [(Int, UInt64)] = []
            for i in 0..<count {
                let x = r(i)
                if width < 64 && x >> UInt64(width) != 0 { exceptions.append((i, x >> UInt64(width))) }
            }
            w.varint(UInt64(exceptions.count))
            var last = 0
            for (i, high) in exceptions { w.varint(UInt64(i - last)); w.varint(high); last = i }
        }
    }

    /// Residuals written by `Plan.write`, into `out` (as bit patterns), patches applied.
    static func readResiduals(_ r: inout ByteReader, into out: UnsafeMutableBufferPointer<UInt64>, patched: Bool) throws {
        let count = out.count
        let width = Int(try r.u8())
        try BitPacking.unpack(&r, count: count, width: width, into: out.baseAddress)
        guard patched else { return }
        guard width < 64 else { throw FormatError("patched packing at width 64") }
        let exceptions = try r.int("exception count")
        guard exceptions <= count else { throw FormatError("more exceptions than values") }
        var i = 0
        for k in 0..<exceptions {
            let gap = try r.int("exception gap")
            i = k == 0 ? gap : i + gap
            guard i < count else { throw FormatError("exception index past the values") }
            out[i] |= try r.varint() << UInt64(width)
        }
    }

    static func readResiduals(_ r: inout ByteReader, count: Int, patched: Bool) throws -> [UInt64] {
        var out = [UInt64](repeating: 0, count: count)
        try out.withUnsafeMutableBufferPointer { try readResiduals(&r, into: $0, patched: patched) }
        return out
    }

    /// Decodes in one buffer: residuals unpacked in place, then the base added (frame of
    /// reference) or the running sum taken (delta).
    public static func decode(_ r: inout ByteReader, count: Int) throws -> [Int64] {
        guard let mode = Mode(rawValue: try r.u8()) else { throw FormatError("unknown integer encoding") }
        switch mode {
        case .constant:
            return [Int64](repeating: try r.svarint(), count: count)
        case .frameOfReference, .patchedFrameOfReference:
            let lo = try r.svarint()
            var out = [Int64](repeating: 0, count: count)
            try out.withUnsafeMutableBufferPointer { o in
                try o.withMemoryRebound(to: UInt64.self) { try readResiduals(&r, into: $0, patched: mode == .patchedFrameOfReference) }
                for i in 0..<count { o[i] = lo &+ o[i] }
            }
            return out
        case .delta, .patchedDelta:
            guard count > 0 else { throw FormatError("delta encoding with no values") }
            let first = try r.svarint()
            let dlo = try r.svarint()
            var out = [Int64](repeating: 0, count: count)
            try out.withUnsafeMutableBufferPointer { o in
                let rest = UnsafeMutableBufferPointer(rebasing: o[1...])
                try rest.withMemoryRebound(to: UInt64.self) { try readResiduals(&r, into: $0, patched: mode == .patchedDelta) }
                o[0] = first
                for i in 1..<count { o[i] = o[i - 1] &+ (dlo &+ o[i]) }
            }
            return out
        }
    }
}
