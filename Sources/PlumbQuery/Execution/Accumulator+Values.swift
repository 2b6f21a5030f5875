/// min, max, any_value: the best value so far per group (typed for numbers and timestamps).
final class ExtremeAccumulator: Accumulator {
    let function: AggregateFunction
    let type: SQLType
    var best: [Value] = []
    init(function: AggregateFunction, type: SQLType) { self.function = function; self.type = type }

    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) {
        if best.count < groupCount { best.append(contentsOf: repeatElement(.null, count: groupCount - best.count)) }
        guard let arg, !arg.isConstantNull else { return }
        let wantMax = function == .max
        switch (arg.data, function) {
        case (.int(let x), .min), (.int(let x), .max):
            // Per group running best as raw integers, then one Value per touched group.
            var lo = [Int64?](repeating: nil, count: groupCount)
            for i in groups.indices where arg.isValid(i) {
                let g = Int(groups[i])
                if let cur = lo[g] { lo[g] = wantMax ? Swift.max(cur, x[i]) : Swift.min(cur, x[i]) } else { lo[g] = x[i] }
            }
            for g in 0..<groupCount { if let v = lo[g] { offer(g, type == .timestamp ? .timestamp(v) : .int(v), wantMax) } }
        default:
            for i in groups.indices where arg.isValid(i) {
                let g = Int(groups[i])
                if function == .anyValue { if best[g].isNull { best[g] = arg.value(at: i) }; continue }
                offer(g, arg.value(at: i), wantMax)
            }
        }
    }

    @inline(__always) func offer(_ g: Int, _ v: Value, _ wantMax: Bool) {
        if best[g].isNull { best[g] = v; return }
        let c = ValueOrder.compare(v, best[g])
        if wantMax ? c > 0 : c < 0 { best[g] = v }
    }

    func finish(groupCount: Int) -> Vector {
        Vector.from((0..<groupCount).map { $0 < best.count ? best[$0] : .null }, type: type)
    }
}

/// The values of one argument per group, kept for order statistics; shared by every quantile
/// of that argument in a query (p50, p95 and p99 of latency keep latency once).
final class GroupValues {
    var doubles: [[Double]] = []
    var ints: [[Int64]] = []
    var isInt: Bool?
    /// Values already in order (see `seal`), shared by copies and never reordered; `doubles`
    /// and `ints` hold the values since.
    var sortedDoubles: [[Double]] = []
    var sortedInts: [[Int64]] = []

    static func lessDouble(_ a: Double, _ b: Double) -> Bool { ValueOrder.compareDoubles(a, b) < 0 }

    /// Puts doubles in `lessDouble`'s order: with `<` when there is no NaN (the specialized sort,
    /// several times faster than one calling a comparison closure), else with `lessDouble`.
    static func sort(_ values: inout [Double]) {
        if values.contains(where: \.isNaN) { values.sort(by: lessDouble) } else { values.sort() }
    }

    func grow(_ groupCount: Int) {
        if doubles.count < groupCount { doubles.append(contentsOf: repeatElement([], count: groupCount - doubles.count)) }
        if ints.count < groupCount { ints.append(contentsOf: repeatElement([], count: groupCount - ints.count)) }
        if sortedDoubles.count < groupCount { sortedDoubles.append(contentsOf: repeatElement([], count: groupCount - sortedDoubles.count)) }
        if sortedInts.count < groupCount { sortedInts.append(contentsOf: repeatElement([], count: groupCount - sortedInts.count)) }
    }

    /// Puts every group's values in order, once, for a state that is copied and finished frame
    /// after frame (a dashboard's kept aggregates): each copy then adds its few new values
    /// beside them, and a quantile reads the two ordered runs without reordering the big one.
    func seal() {
        grow(max(doubles.count, ints.count))
        for g in doubles.indices where !doubles[g].isEmpty {
            Self.sort(&doubles[g])
            sortedDoubles[g] = Self.merged(sortedDoubles[g], doubles[g], Self.lessDouble)
            doubles[g] = []
        }
        for g in ints.indices where !ints[g].isEmpty {
            sortedInts[g] = Self.merged(sortedInts[g], ints[g].sorted(), <)
            ints[g] = []
        }
    }

    static func merged<T>(_ a: [T], _ b: [T], _ less: (T, T) -> Bool) -> [T] {
        if a.isEmpty { return b }
        var out: [T] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if less(b[j], a[i]) { out.append(b[j]); j += 1 } else { out.append(a[i]); i += 1 }
        }
        out += a[i...]; out += b[j...]
        return out
    }

    /// The value of rank `k` (0-based) among two ordered runs.
    static func rank<T>(_ k: Int, _ a: [T], _ b: [T], _ less: (T, T) -> Bool) -> T {
        // i values from a and k + 1 - i from b make up the k + 1 smallest.
        var lo = max(0, k + 1 - b.count), hi = min(k + 1, a.count)
        while lo < hi {
            let i = (lo + hi) / 2, j = k + 1 - i
            if j > 0 && less(a[i], b[j - 1]) { lo = i + 1 } else { hi = i }
        }
        let i = lo, j = k + 1 - lo
        if i == 0 { return b[j - 1] }
        if j == 0 { return a[i - 1] }
        return less(a[i - 1], b[j - 1]) ? b[j - 1] : a[i - 1]
    }

    /// The values of ranks `lo` and `hi` of a group (`hi` is `lo` or the next): by selection
    /// in place when nothing is sealed, else from the sealed run and the rest put in order.
    func ranks<T>(_ lo: Int, _ hi: Int, _ rest: inout [T], sorted: [T], _ less: (T, T) -> Bool,
                  sort: (inout [T]) -> Void) -> (T, T) {
        if sorted.isEmpty {
            Selection.select(&rest, lo, less)
            let a = rest[lo]
            return (a, hi > lo ? Selection.minimum(rest, from: lo + 1, less) : a)
        }
        sort(&rest)
        let a = Self.rank(lo, sorted, rest, less)
        return (a, hi > lo ? Self.rank(hi, sorted, rest, less) : a)
    }

    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) {
        grow(groupCount)
        guard let arg, !arg.isConstantNull else { return }
        if isInt == nil { isInt = arg.type == .bigint || arg.type == .timestamp }
        if isInt == true {
            let x = Columns.ints(arg)
            for i in groups.indices where arg.isValid(i) { ints[Int(groups[i])].append(x[i]) }
        } else {
            let x = Columns.doubles(arg)
            if arg.validity == nil {
                for i in groups.indices { doubles[Int(groups[i])].append(x[i]) }
            } else {
                for i in groups.indices where arg.isValid(i) { doubles[Int(groups[i])].append(x[i]) }
            }
        }
    }
}

/// median, quantile_cont, quantile_disc, approx_quantile over `GroupValues`: finds the one or two
/// order statistics it needs (`Selection`, in place: the values' multiset is unchanged for the
/// next quantile) and picks as DuckDB does: `cont` interpolates linearly at position q·(n−1);
/// `disc` takes the value at index ⌈q·n⌉−1. approx_quantile is computed exactly (DuckDB
/// estimates it with a t-digest; the two agree within its error).
final class QuantileAccumulator: Accumulator {
    let fraction: Double
    let continuous: Bool
    let type: SQLType
    let values: GroupValues
    /// Only the first quantile of an argument feeds the shared values.
    let feeds: Bool

    init(fraction: Double, continuous: Bool, type: SQLType, values: GroupValues = GroupValues(), feeds: Bool = true) {
        self.fraction = fraction; self.continuous = continuous; self.type = type; self.values = values; self.feeds = feeds
    }

    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) {
        if feeds { values.update(groups, groupCount: groupCount, arg) } else { values.grow(groupCount) }
    }

    /// Index of the discrete pick and, for `cont`, the interpolation position.
    func positions(_ n: Int) -> (lo: Int, hi: Int, frac: Double) { Self.positions(n, fraction: fraction, continuous: continuous) }

    static func positions(_ n: Int, fraction: Double, continuous: Bool) -> (lo: Int, hi: Int, frac: Double) {
        if continuous {
            let pos = fraction * Double(n - 1)
            let lo = Int(pos.rounded(.down))
            return (lo, Swift.min(n - 1, Int(pos.rounded(.up))), pos - Double(lo))
        }
        let idx = Swift.min(n - 1, Swift.max(0, Int((fraction * Double(n)).rounded(.up)) - 1))
        return (idx, idx, 0)
    }

    func finish(groupCount: Int) -> Vector {
        var b = VectorBuilder(type: type, capacity: groupCount)
        values.grow(groupCount)
        for g in 0..<groupCount {
            let n = values.isInt == true ? values.ints[g].count + values.sortedInts[g].count
                                         : values.doubles[g].count + values.sortedDoubles[g].count
            guard n > 0 else { b.append(.null); continue }
            let (lo, hi, frac) = positions(n)
            if values.isInt == true {
                let (a, c) = values.ranks(lo, hi, &values.ints[g], sorted: values.sortedInts[g], <) { $0.sort() }
                if c == a || frac == 0 {
                    b.append(type == .timestamp ? .timestamp(a) : (type == .bigint ? .int(a) : .double(Double(a))))
                } else {
                    // Interpolate on the difference, so huge values keep their precision.
                    let step = Double(c) - Double(a)
                    switch type {
                    case .timestamp:
                        // DuckDB's: llround(fma(lo, 1 - d, hi * d)) on the microseconds (its x86-64
                        // build fuses the multiply-add), not lo + floor(d * step).
                        let v = (Double(c) * frac).addingProduct(Double(a), 1 - frac).rounded(.toNearestOrAwayFromZero)
                        b.append(.timestamp(Int64(exactly: v) ?? a))
                    case .bigint: b.append(.int(a &+ (Int64(exactly: (frac * step).rounded(.toNearestOrAwayFromZero)) ?? 0)))
                    default: b.append(.double(Double(a) + frac * step))
                    }
                }
            } else {
                let (a, c) = values.ranks(lo, hi, &values.doubles[g], sorted: values.sortedDoubles[g], GroupValues.lessDouble,
                                             sort: GroupValues.sort)
                b.append(.double(hi == lo ? a : a + frac * (c - a)))
            }
        }
        return b.finish()
    }
}

/// `f(DISTINCT x)`: collects each group's distinct values, then feeds them to `inner` at the end.
final class DistinctAccumulator: Accumulator {
    let inner: Accumulator
    let type: SQLType
    var sets: [Set<Value>] = []
    init(inner: Accumulator, type: SQLType) { self.inner = inner; self.type = type }

    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) {
        if sets.count < groupCount { sets.append(contentsOf: repeatElement([], count: groupCount - sets.count)) }
        guard let arg else { return }
        for i in groups.indices where arg.isValid(i) { sets[Int(groups[i])].insert(arg.value(at: i)) }
    }

    func finish(groupCount: Int) -> Vector {
        var groups: [Int32] = [], values: [Value] = []
        for g in 0..<Swift.min(groupCount, sets.count) {
            for v in sets[g] { groups.append(Int32(g)); values.append(v) }
        }
        try? inner.update(groups, groupCount: groupCount, Vector.from(values, type: type))
        return inner.finish(groupCount: groupCount)
    }
}
