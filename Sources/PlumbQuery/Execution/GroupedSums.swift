/// Per-group counts and integer sums of one batch, with four interleaved accumulators per group
/// (row i adds to lane i mod 4): with few groups (models, providers), consecutive rows mostly
/// hit the same group, and one accumulator would make each add wait for the one before.
///
/// ```swift
/// let (sums, counts, lo, hi) = GroupedSums.sums(groups, values, groupCount: 41, valid: nil)
/// ```
enum GroupedSums {
    /// Lanes per group: four while the groups are few (models, providers), where consecutive rows
    /// mostly hit the same group; with many (users), they rarely do, and one lane saves folding
    /// and three quarters of the memory (top users by spend: 5,000 groups, 8% of the time folding).
    static func lanes(_ groupCount: Int) -> Int { groupCount <= 256 ? 4 : 1 }

    /// Rows per group (only the `valid` ones when given).
    static func counts(_ groups: [Int32], groupCount: Int, valid: [Bool]?) -> [Int64] {
        let lanes = lanes(groupCount), mask = lanes - 1
        var c = [Int64](repeating: 0, count: groupCount * lanes)
        c.withUnsafeMutableBufferPointer { c in groups.withUnsafeBufferPointer { g in
            if let valid {
                valid.withUnsafeBufferPointer { valid in
                    for i in 0..<g.count where valid[i] { c[Int(g[i]) &* lanes &+ (i & mask)] &+= 1 }
                }
            } else {
                for i in 0..<g.count { c[Int(g[i]) &* lanes &+ (i & mask)] &+= 1 }
            }
        } }
        return fold(c, lanes, groupCount)
    }

    /// Wrapping sums of `x` per group, rows per group, and the smallest and largest value
    /// added (with 0), from which the caller tells whether a sum could have wrapped.
    static func sums(_ groups: [Int32], _ x: [Int64], groupCount: Int, valid: [Bool]?) -> (sums: [Int64], counts: [Int64], lo: Int64, hi: Int64) {
        let lanes = lanes(groupCount), mask = lanes - 1
        var s = [Int64](repeating: 0, count: groupCount * lanes), c = s
        var lo: Int64 = 0, hi: Int64 = 0
        s.withUnsafeMutableBufferPointer { s in c.withUnsafeMutableBufferPointer { c in
            groups.withUnsafeBufferPointer { g in x.withUnsafeBufferPointer { x in
                if let valid {
                    valid.withUnsafeBufferPointer { valid in
                    for i in 0..<g.count {
                        let k = Int(g[i]) &* lanes &+ (i & mask), ok = valid[i], v = ok ? x[i] : 0
                        s[k] &+= v; c[k] &+= ok ? 1 : 0
                        lo = min(lo, v); hi = max(hi, v)
                    }
                    }
                } else {
                    for i in 0..<g.count {
                        let k = Int(g[i]) &* lanes &+ (i & mask), v = x[i]
                        s[k] &+= v; c[k] &+= 1
                        lo = min(lo, v); hi = max(hi, v)
                    }
                }
            } }
        } }
        return (fold(s, lanes, groupCount), fold(c, lanes, groupCount), lo, hi)
    }

    static func fold(_ v: [Int64], _ lanes: Int, _ groupCount: Int) -> [Int64] {
        if lanes == 1 { return v }
        return (0..<groupCount).map { g in
            var t: Int64 = 0
            for l in 0..<lanes { t &+= v[g * lanes + l] }
            return t
        }
    }
}
