/// The running state of one aggregate for every group, updated a batch at a time from the
/// rows' group numbers and the argument's vector; `finish` gives one value per group.
protocol Accumulator: AnyObject {
    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) throws
    func finish(groupCount: Int) -> Vector
}

extension AggregateSpec {
    /// `shared`: the values kept for quantiles, by argument, so that quantiles of one argument
    /// keep it once.
    func makeAccumulator(shared: inout [String: GroupValues]) -> Accumulator {
        if !distinct, [.median, .quantileCont, .quantileDisc, .approxQuantile].contains(function), let argument {
            let key = argument.key
            let feeds = shared[key] == nil
            let values = shared[key] ?? GroupValues()
            shared[key] = values
            let q = function == .median ? 0.5 : (fraction ?? 0.5)
            return QuantileAccumulator(fraction: q, continuous: function != .quantileDisc, type: type, values: values, feeds: feeds)
        }
        return makeAccumulator()
    }

    func makeAccumulator() -> Accumulator {
        let argType = argument?.type ?? .null
        let base: Accumulator
        switch function {
        case .countStar: base = CountAccumulator(star: true)
        case .count: base = CountAccumulator(star: false)
        case .countIf: base = CountIfAccumulator()
        case .sum where type == .bigint: base = IntSumAccumulator(average: false)
        case .avg where argType == .bigint: base = IntSumAccumulator(average: true)
        case .sum, .avg: base = DoubleSumAccumulator(average: function == .avg)
        case .min, .max, .anyValue: base = ExtremeAccumulator(function: function, type: type)
        case .median: base = QuantileAccumulator(fraction: 0.5, continuous: true, type: type)
        case .quantileCont: base = QuantileAccumulator(fraction: fraction ?? 0.5, continuous: true, type: type)
        case .quantileDisc: base = QuantileAccumulator(fraction: fraction ?? 0.5, continuous: false, type: type)
        case .approxQuantile: base = QuantileAccumulator(fraction: fraction ?? 0.5, continuous: true, type: type)
        }
        return distinct ? DistinctAccumulator(inner: base, type: argType) : base
    }
}

final class CountAccumulator: Accumulator {
    let star: Bool
    var counts: [Int64] = []
    init(star: Bool) { self.star = star }

    func grow(_ groupCount: Int) {
        if counts.count < groupCount { counts.append(contentsOf: repeatElement(0, count: groupCount - counts.count)) }
    }

    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) {
        grow(groupCount)
        if !star, let arg, arg.isConstantNull { return }
        let valid = star ? nil : arg?.validity
        // Loops run on buffers: one exclusivity check per batch, not per row.
        counts.withUnsafeMutableBufferPointer { c in
            if groupCount > 4 * groups.count {
                // Far more groups than rows: a per-group array per batch would cost more than the rows.
                if let valid { for (i, g) in groups.enumerated() where valid[i] { c[Int(g)] += 1 } } else { for g in groups { c[Int(g)] += 1 } }
            } else {
                let batch = GroupedSums.counts(groups, groupCount: groupCount, valid: valid)
                for g in 0..<groupCount { c[g] += batch[g] }
            }
        }
    }

    func finish(groupCount: Int) -> Vector {
        Vector(type: .bigint, data: .int(counts + repeatElement(0, count: max(0, groupCount - counts.count))))
    }
}

final class CountIfAccumulator: Accumulator {
    var counts: [Int64] = []

    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) {
        if counts.count < groupCount { counts.append(contentsOf: repeatElement(0, count: groupCount - counts.count)) }
        guard let arg else { return }
        let rows = Evaluator.selected(arg)
        counts.withUnsafeMutableBufferPointer { c in for i in rows { c[Int(groups[i])] += 1 } }
    }

    func finish(groupCount: Int) -> Vector {
        Vector(type: .bigint, data: .int(counts + repeatElement(0, count: max(0, groupCount - counts.count))))
    }
}

/// sum and avg of BIGINT: exact 64-bit sums (overflow is an error, where DuckDB would widen to
/// HUGEINT; span counters are far from it).
final class IntSumAccumulator: Accumulator {
    let average: Bool
    var sums: [Int64] = [], counts: [Int64] = []
    init(average: Bool) { self.average = average }

    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) throws {
        if sums.count < groupCount {
            sums.append(contentsOf: repeatElement(0, count: groupCount - sums.count))
            counts.append(contentsOf: repeatElement(0, count: groupCount - counts.count))
        }
        guard let arg, !arg.isConstantNull else { return }
        let x = Columns.ints(arg)
        let valid = arg.validity
        var overflow = false
        sums.withUnsafeMutableBufferPointer { s in counts.withUnsafeMutableBufferPointer { c in
            for i in groups.indices where valid?[i] ?? true {
                let g = Int(groups[i])
                let (v, o) = s[g].addingReportingOverflow(x[i])
                overflow = overflow || o
                s[g] = v
                c[g] += 1
            }
        } }
        if overflow { throw QueryError("Overflow in sum of BIGINT") }
    }

    func finish(groupCount: Int) -> Vector {
        var b = VectorBuilder(type: average ? .double : .bigint, capacity: groupCount)
        for g in 0..<groupCount {
            if g >= counts.count || counts[g] == 0 { b.append(.null) }
            else { b.append(average ? .double(Double(sums[g]) / Double(counts[g])) : .int(sums[g])) }
        }
        return b.finish()
    }
}

final class DoubleSumAccumulator: Accumulator {
    let average: Bool
    var sums: [Double] = [], counts: [Int64] = []
    init(average: Bool) { self.average = average }

    func grow(_ groupCount: Int) {
        if sums.count < groupCount {
            sums.append(contentsOf: repeatElement(0, count: groupCount - sums.count))
            counts.append(contentsOf: repeatElement(0, count: groupCount - counts.count))
        }
    }

    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) {
        grow(groupCount)
        guard let arg, !arg.isConstantNull else { return }
        if case .decimal(let d) = arg.data, addDecimals(groups, groupCount, d, arg.validity) { return }
        let x = Columns.doubles(arg)
        if groupCount == 1 { return addAll(x, arg.validity) }
        sums.withUnsafeMutableBufferPointer { s in counts.withUnsafeMutableBufferPointer { c in
            if let valid = arg.validity {
                // Branch-free: a null row holds 0 and counts 0 (-0.0 must not turn a sum of +0.0 negative).
                for i in groups.indices {
                    let g = Int(groups[i]), ok = valid[i]
                    s[g] += ok ? x[i] : 0
                    c[g] += ok ? 1 : 0
                }
            } else {
                for i in groups.indices { let g = Int(groups[i]); s[g] += x[i]; c[g] += 1 }
            }
        } }
    }

    /// One group (a total): four running sums, so that the additions do not wait on each other
    /// (one chain of dependent adds is most of a plain sum's time). The order of additions
    /// differs from the row order, as it does across threads anyway.
    func addAll(_ x: [Double], _ valid: [Bool]?) {
        var a = (0.0, 0.0, 0.0, 0.0), present = 0
        x.withUnsafeBufferPointer { x in
            let n = x.count, whole = n & ~3
            if let valid {
                valid.withUnsafeBufferPointer { v in
                    // Branch-free: a null row adds 0 (never -0.0, which could turn a +0.0 sum negative).
                    var i = 0
                    while i < whole {
                        a.0 += v[i] ? x[i] : 0; a.1 += v[i + 1] ? x[i + 1] : 0
                        a.2 += v[i + 2] ? x[i + 2] : 0; a.3 += v[i + 3] ? x[i + 3] : 0
                        i += 4
                    }
                    for j in whole..<n { a.0 += v[j] ? x[j] : 0 }
                    for j in 0..<n { present &+= v[j] ? 1 : 0 }
                }
            } else {
                var i = 0
                while i < whole { a.0 += x[i]; a.1 += x[i + 1]; a.2 += x[i + 2]; a.3 += x[i + 3]; i += 4 }
                for j in whole..<n { a.0 += x[j] }
                present = n
            }
        }
        sums[0] += (a.0 + a.1) + (a.2 + a.3)
        counts[0] += Int64(present)
    }

    /// Decimal values: this batch's integers summed per group (exact), then divided once per
    /// group. The sums wrap; the values' range, tracked in the same pass, tells afterwards
    /// whether any could have overflowed: then nothing is added and false is returned.
    func addDecimals(_ groups: [Int32], _ groupCount: Int, _ d: DecimalValues, _ valid: [Bool]?) -> Bool {
        // Far more groups than rows: per-group arrays per batch would cost more than the rows.
        guard groupCount <= 4 * groups.count else { return false }
        let (partial, touched, lo, hi) = GroupedSums.sums(groups, d.scaled, groupCount: groupCount, valid: valid)
        let limit = Int64.max / Int64(max(groups.count, 1))
        guard hi < limit, lo > -limit else { return false }
        let power = d.power
        for g in 0..<groupCount where touched[g] > 0 {
            sums[g] += Double(partial[g]) / power
            counts[g] += touched[g]
        }
        return true
    }

    func finish(groupCount: Int) -> Vector {
        var b = VectorBuilder(type: .double, capacity: groupCount)
        for g in 0..<groupCount {
            if g >= counts.count || counts[g] == 0 { b.append(.null) }
            else { b.append(.double(average ? sums[g] / Double(counts[g]) : sums[g])) }
        }
        return b.finish()
    }
}
