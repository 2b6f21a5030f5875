/// Folding one aggregate state into another: `map[g]` is the group in `self` of group `g` in
/// `other` (same aggregate, same argument). Lets a row group's partial aggregate be kept and
/// reused (`PartialAggregateCache`) instead of reading the row group again.
protocol MergeableAccumulator: Accumulator {
    func merge(_ other: Accumulator, map: [Int32], groupCount: Int) throws
    /// An independent copy; quantiles sharing values in `self` share the copy's in the copy
    /// (`values` maps each original to its copy).
    func copy(values: inout [ObjectIdentifier: GroupValues]) -> Accumulator
}

/// Per-group counts of another state added to ours (count and count_if).
private func addCounts(_ counts: inout [Int64], _ other: [Int64], map: [Int32], groupCount: Int) {
    if counts.count < groupCount { counts.append(contentsOf: repeatElement(0, count: groupCount - counts.count)) }
    for (g, n) in other.enumerated() { counts[Int(map[g])] += n }
}

extension CountAccumulator: MergeableAccumulator {
    func copy(values: inout [ObjectIdentifier: GroupValues]) -> Accumulator {
        let c = CountAccumulator(star: star); c.counts = counts; return c
    }

    func merge(_ other: Accumulator, map: [Int32], groupCount: Int) {
        addCounts(&counts, (other as! CountAccumulator).counts, map: map, groupCount: groupCount)
    }
}

extension CountIfAccumulator: MergeableAccumulator {
    func copy(values: inout [ObjectIdentifier: GroupValues]) -> Accumulator {
        let c = CountIfAccumulator(); c.counts = counts; return c
    }

    func merge(_ other: Accumulator, map: [Int32], groupCount: Int) {
        addCounts(&counts, (other as! CountIfAccumulator).counts, map: map, groupCount: groupCount)
    }
}

extension IntSumAccumulator: MergeableAccumulator {
    func copy(values: inout [ObjectIdentifier: GroupValues]) -> Accumulator {
        let c = IntSumAccumulator(average: average); c.sums = sums; c.counts = counts; return c
    }

    func merge(_ other: Accumulator, map: [Int32], groupCount: Int) throws {
        let o = other as! IntSumAccumulator
        try update([], groupCount: groupCount, nil)
        for g in o.sums.indices {
            let m = Int(map[g])
            let (v, overflow) = sums[m].addingReportingOverflow(o.sums[g])
            if overflow { throw QueryError("Overflow in sum of BIGINT") }
            sums[m] = v
            counts[m] += o.counts[g]
        }
    }
}

extension DoubleSumAccumulator: MergeableAccumulator {
    func copy(values: inout [ObjectIdentifier: GroupValues]) -> Accumulator {
        let c = DoubleSumAccumulator(average: average); c.sums = sums; c.counts = counts; return c
    }

    func merge(_ other: Accumulator, map: [Int32], groupCount: Int) {
        let o = other as! DoubleSumAccumulator
        update([], groupCount: groupCount, nil)
        for g in o.sums.indices where o.counts[g] > 0 {
            let m = Int(map[g])
            sums[m] += o.sums[g]
            counts[m] += o.counts[g]
        }
    }
}

extension ExtremeAccumulator: MergeableAccumulator {
    func copy(values: inout [ObjectIdentifier: GroupValues]) -> Accumulator {
        let c = ExtremeAccumulator(function: function, type: type); c.best = best; return c
    }

    func merge(_ other: Accumulator, map: [Int32], groupCount: Int) {
        let o = other as! ExtremeAccumulator
        update([], groupCount: groupCount, nil)
        for (g, v) in o.best.enumerated() where !v.isNull {
            let m = Int(map[g])
            if function == .anyValue { if best[m].isNull { best[m] = v } } else { offer(m, v, function == .max) }
        }
    }
}

extension QuantileAccumulator: MergeableAccumulator {
    func copy(values copies: inout [ObjectIdentifier: GroupValues]) -> Accumulator {
        let id = ObjectIdentifier(values)
        let shared = copies[id] ?? {
            let v = GroupValues(); v.doubles = values.doubles; v.ints = values.ints; v.isInt = values.isInt
            v.sortedDoubles = values.sortedDoubles; v.sortedInts = values.sortedInts
            copies[id] = v
            return v
        }()
        return QuantileAccumulator(fraction: fraction, continuous: continuous, type: type, values: shared, feeds: feeds)
    }

    /// The feeding quantile merges the shared values; the others share them already.
    func merge(_ other: Accumulator, map: [Int32], groupCount: Int) {
        values.grow(groupCount)
        guard feeds else { return }
        let o = (other as! QuantileAccumulator).values
        if values.isInt == nil { values.isInt = o.isInt }
        for g in o.ints.indices where !o.ints[g].isEmpty { values.ints[Int(map[g])] += o.ints[g] }
        for g in o.doubles.indices where !o.doubles[g].isEmpty { values.doubles[Int(map[g])] += o.doubles[g] }
        for g in o.sortedInts.indices where !o.sortedInts[g].isEmpty { values.ints[Int(map[g])] += o.sortedInts[g] }
        for g in o.sortedDoubles.indices where !o.sortedDoubles[g].isEmpty { values.doubles[Int(map[g])] += o.sortedDoubles[g] }
    }
}
