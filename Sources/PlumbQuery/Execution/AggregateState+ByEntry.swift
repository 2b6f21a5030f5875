/// GROUP BY one dictionary-coded column where every aggregate is `count(*)` or a sum or average
/// of one decimal column (spend and requests by model, top users by spend): one pass over the
/// rows adds into per-entry counts and sums of the row group's own dictionary, then each entry
/// that occurs is folded into its group, instead of numbering every row's group and adding per
/// group in a second pass.
extension AggregateState {
    /// Whether the plan fits: one key, every aggregate `count(*)` or a sum or average of a DOUBLE.
    var takesEntries: Bool {
        plan.keys.count == 1 && accumulators.allSatisfy { a in (a as? CountAccumulator)?.star ?? (a is DoubleSumAccumulator) }
    }

    /// Whether the batch was taken this way; false (nothing changed) when the plan or the
    /// values do not fit it.
    func consumeByEntry(_ keys: [Vector], _ args: [Vector?], rows: Int) -> Bool {
        guard takesEntries, let e = Self.entries(plan, keys, args, rows: rows) else { return false }
        fold(e)
        return true
    }

    /// A batch's rows, counts and sums per entry of its key's dictionary, for a plan that
    /// `takesEntries`; nil when the values do not fit (a key that is not dictionary-coded, an
    /// argument that is not decimal, a sum that could wrap). Reads only `plan`: any thread.
    static func entries(_ plan: AggregatePlan, _ keys: [Vector], _ args: [Vector?], rows: Int) -> EntryPartial? {
        guard keys.count == 1, case .dict(let codes, let dict) = keys[0].data, dict.count <= 4 * max(rows, 1) else { return nil }
        var decimal: DecimalValues?, decimalValid: [Bool]?
        for (spec, arg) in zip(plan.aggregates, args) where spec.function != .countStar {
            guard let arg, case .decimal(let d) = arg.data else { return nil }
            // One decimal column, however many sums and averages of it.
            if let decimal, decimal.scaled != d.scaled || decimal.exponent != d.exponent || decimalValid != arg.validity { return nil }
            decimal = d; decimalValid = arg.validity
        }
        let t = EntrySums.run(codes, keyValid: keys[0].validity, nullSlot: dict.count, slots: dict.count + 1,
                              values: decimal?.scaled, valid: decimalValid)
        if decimal != nil {
            // As `DoubleSumAccumulator.addDecimals`: a sum that could have wrapped goes the double way.
            let limit = Int64.max / Int64(max(rows, 1))
            guard t.hi < limit, t.lo > -limit else { return nil }
        }
        return EntryPartial(codes: codes, dictionary: dict, keyValid: keys[0].validity, rows: t.rows,
                            sums: t.sums, counts: t.counts, power: decimal?.power)
    }

    /// Adds a batch's per-entry counts and sums: each entry that occurs into its group.
    func fold(_ e: EntryPartial) {
        let groups = table.entryGroups(e.codes, e.dictionary, valid: e.keyValid, rows: e.rows)
        let n = table.count
        for a in accumulators {
            if let c = a as? CountAccumulator {
                c.grow(n)
                for s in groups.indices where groups[s] >= 0 { c.counts[Int(groups[s])] += e.rows[s] }
            } else if let s = a as? DoubleSumAccumulator, let power = e.power {    // a sum implies a decimal column
                s.grow(n)
                for k in groups.indices where groups[k] >= 0 && e.counts[k] > 0 {
                    s.sums[Int(groups[k])] += Double(e.sums[k]) / power
                    s.counts[Int(groups[k])] += e.counts[k]
                }
            }
        }
    }
}

/// One batch of a GROUP BY on a dictionary-coded key, reduced to its dictionary's entries
/// (`AggregateState.entries`); slot `dictionary.count` stands for NULL keys.
struct EntryPartial: Sendable {
    let codes: [UInt32]
    let dictionary: [String]
    let keyValid: [Bool]?
    let rows: [Int64]
    /// Per entry: the decimal argument's scaled sum and count of present values (none without one).
    let sums: [Int64], counts: [Int64]
    let power: Double?
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
