/// GROUP BY one dictionary-coded column where every aggregate is `count(*)` or a sum or average
/// of one decimal column (spend and requests by model, top users by spend): one pass over the
/// rows adds into per-entry counts and sums of the row group's own dictionary, then each entry
/// that occurs is folded into its group, instead of numbering every row's group and adding per
/// group in a second pass.
extension AggregateState {
    /// Whether the batch was taken this way; false (nothing changed) when the plan or the
    /// values do not fit it.
    func consumeByEntry(_ key: Vector, _ args: [Vector?], rows: Int) -> Bool {
        guard case .dict(let codes, let dict) = key.data, dict.count <= 4 * max(rows, 1) else { return false }
        var decimal: DecimalValues?, decimalValid: [Bool]?
        for (a, arg) in zip(accumulators, args) {
            if let c = a as? CountAccumulator, c.star { continue }
            guard a is DoubleSumAccumulator, let arg, case .decimal(let d) = arg.data else { return false }
            // One decimal column, however many sums and averages of it.
            if let decimal, decimal.scaled != d.scaled || decimal.exponent != d.exponent || decimalValid != arg.validity { return false }
            decimal = d; decimalValid = arg.validity
        }
        let slots = dict.count + 1
        let t = EntrySums.run(codes, keyValid: key.validity, nullSlot: dict.count, slots: slots,
                              values: decimal?.scaled, valid: decimalValid)
        if decimal != nil {
            // As `DoubleSumAccumulator.addDecimals`: a sum that could have wrapped goes the double way.
            let limit = Int64.max / Int64(max(rows, 1))
            guard t.hi < limit, t.lo > -limit else { return false }
        }
        let groups = table.entryGroups(codes, dict, valid: key.validity, rows: t.rows)
        let n = table.count
        for a in accumulators {
            if let c = a as? CountAccumulator {
                c.grow(n)
                for s in 0..<slots where groups[s] >= 0 { c.counts[Int(groups[s])] += t.rows[s] }
            } else if let s = a as? DoubleSumAccumulator, let power = decimal?.power {
                s.grow(n)
                for e in 0..<slots where groups[e] >= 0 && t.counts[e] > 0 {
                    s.sums[Int(groups[e])] += Double(t.sums[e]) / power
                    s.counts[Int(groups[e])] += t.counts[e]
                }
            }
        }
        return true
    }
}

/// Rows per dictionary entry and, for one integer column, wrapping sums and counts of its
/// present values per entry, with the smallest and largest value (and 0) to tell whether a
/// sum could have wrapped. Entry `nullSlot` takes the rows whose key is NULL.
enum EntrySums {
    static func run(_ codes: [UInt32], keyValid: [Bool]?, nullSlot: Int, slots: Int, values: [Int64]?, valid: [Bool]?)
        -> (rows: [Int64], sums: [Int64], counts: [Int64], lo: Int64, hi: Int64) {
        // With values, one counter per entry holds both counts: present values in the low 32
        // bits, NULL values in the high ones (a batch has far fewer than 2^32 rows), so a row
        // costs two read-modify-writes, not three.
        var tally = [Int64](repeating: 0, count: slots)
        var sums = [Int64](repeating: 0, count: values == nil ? 0 : slots)
        var lo: Int64 = 0, hi: Int64 = 0
        let allKeys = [Bool](), allValues = [Bool]()
        tally.withUnsafeMutableBufferPointer { t in sums.withUnsafeMutableBufferPointer { s in
        codes.withUnsafeBufferPointer { code in (keyValid ?? allKeys).withUnsafeBufferPointer { kv in
        (values ?? []).withUnsafeBufferPointer { x in (valid ?? allValues).withUnsafeBufferPointer { xv in
            // Branch-free (NULLs fall at random; a branch on each would mispredict): a row's
            // entry, value and count are picked with masks from its validity bits.
            @inline(__always) func mask(_ b: Bool) -> Int { 0 &- Int(unsafeBitCast(b, to: UInt8.self)) }
            @inline(__always) func slot(_ i: Int) -> Int {
                guard !kv.isEmpty else { return Int(code[i]) }
                let m = mask(kv[i])
                return (Int(code[i]) & m) | (nullSlot & ~m)
            }
            if x.isEmpty {
                for i in 0..<code.count { t[slot(i)] &+= 1 }
            } else if xv.isEmpty {
                for i in 0..<code.count {
                    let k = slot(i), v = x[i]
                    s[k] &+= v; t[k] &+= 1
                    lo = min(lo, v); hi = max(hi, v)
                }
            } else {
                for i in 0..<code.count {
                    let k = slot(i), m = Int64(mask(xv[i])), v = x[i] & m
                    s[k] &+= v; t[k] &+= (1 & m) | ((1 << 32) & ~m)
                    lo = min(lo, v); hi = max(hi, v)
                }
            }
        } } } } } }
        guard values != nil else { return (tally, [], [], lo, hi) }
        let counts = tally.map { $0 & 0xFFFF_FFFF }
        let rows = tally.map { ($0 >> 32) &+ ($0 & 0xFFFF_FFFF) }
        return (rows, sums, counts, lo, hi)
    }
}
