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

/// median, quantile_cont, quantile_disc, approx_quantile: keeps every value of the group, then
/// interpolates as DuckDB does: position q·(n−1), linear between its neighbours (cont), or the
/// value at floor(q·(n−1)) after... DuckDB's quantile_disc takes index ⌈q·n⌉−1 (disc).
final class QuantileAccumulator: Accumulator {
    let fraction: Double
    let continuous: Bool
    let type: SQLType
    let roundToType: Bool
    var values: [[Double]] = []

    init(fraction: Double, continuous: Bool, type: SQLType, roundToType: Bool = false) {
        self.fraction = fraction; self.continuous = continuous; self.type = type; self.roundToType = roundToType
    }

    func update(_ groups: [Int32], groupCount: Int, _ arg: Vector?) {
        if values.count < groupCount { values.append(contentsOf: repeatElement([], count: groupCount - values.count)) }
        guard let arg, !arg.isConstantNull else { return }
        let x = Columns.doubles(arg)
        for i in groups.indices where arg.isValid(i) { values[Int(groups[i])].append(x[i]) }
    }

    func finish(groupCount: Int) -> Vector {
        var b = VectorBuilder(type: type, capacity: groupCount)
        for g in 0..<groupCount {
            guard g < values.count, !values[g].isEmpty else { b.append(.null); continue }
            var v = values[g]
            let q: Double
            if continuous {
                v.sort { ValueOrder.compareDoubles($0, $1) < 0 }
                let pos = fraction * Double(v.count - 1)
                let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
                q = lo == hi ? v[lo] : v[lo] + (pos - Double(lo)) * (v[hi] - v[lo])
            } else {
                v.sort { ValueOrder.compareDoubles($0, $1) < 0 }
                let idx = Swift.max(0, Int((fraction * Double(v.count)).rounded(.up)) - 1)
                q = v[Swift.min(idx, v.count - 1)]
            }
            switch type {
            case .timestamp: b.append(.timestamp(Int64(q.rounded(.down))))
            case .bigint: b.append(.int(Int64(q.rounded(.toNearestOrAwayFromZero))))
            default: b.append(.double(q))
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
