import PlumbStore

/// A row group's aggregate state as bytes, for the partial rollups `plumb serve` writes beside
/// its segments (`PartialRollups`): the groups' keys, then each aggregate's running figures.
/// Only counts, sums, averages, min, max and any_value are written; a state with a quantile
/// (it keeps every value: the column again) or a DISTINCT is not (`persistable`).
///
/// ```swift
/// let bytes = state.encoded()                              // nil: not persistable
/// let back = try AggregateState(plan: plan, decoding: bytes!)
/// ```
extension AggregateState {
    static func persistable(_ plan: AggregatePlan) -> Bool {
        mergeable(plan) && !plan.aggregates.contains { [.median, .quantileCont, .quantileDisc, .approxQuantile].contains($0.function) }
    }

    func encoded() -> [UInt8]? {
        guard Self.persistable(plan) else { return nil }
        let n = table.count
        var w = ByteWriter()
        w.varint(UInt64(n))
        for column in plan.keys.isEmpty ? [] : table.keyColumns() {
            for i in 0..<n { guard Self.encode(column.value(at: i), into: &w) else { return nil } }
        }
        func ints(_ a: [Int64]) { for g in 0..<n { w.svarint(g < a.count ? a[g] : 0) } }
        for a in accumulators {
            switch a {
            case let c as CountAccumulator: w.u8(1); ints(c.counts)
            case let c as CountIfAccumulator: w.u8(2); ints(c.counts)
            case let s as IntSumAccumulator: w.u8(3); ints(s.sums); ints(s.counts)
            case let s as DoubleSumAccumulator:
                w.u8(4)
                for g in 0..<n { w.f64(g < s.sums.count ? s.sums[g] : 0) }
                ints(s.counts)
            case let e as ExtremeAccumulator:
                w.u8(5)
                for g in 0..<n { guard Self.encode(g < e.best.count ? e.best[g] : .null, into: &w) else { return nil } }
            default: return nil
            }
        }
        return w.bytes
    }

    /// A state of `plan` from `encoded()`'s bytes; any mismatch with the plan (another query's
    /// state, damaged bytes) is an error.
    convenience init(plan: AggregatePlan, decoding bytes: [UInt8]) throws {
        self.init(plan: plan)
        table.mergeOnly = true
        var r = ByteReader(bytes)
        let n = try r.length("groups")
        if plan.keys.isEmpty {
            guard n == 1 else { throw FormatError("\(n) groups without keys") }
        } else {
            var columns: [Vector] = []
            for key in plan.keys {
                var values: [Value] = []
                values.reserveCapacity(n)
                for _ in 0..<n { values.append(try Self.decodeValue(&r)) }
                columns.append(Vector.from(values, type: key.type))
            }
            let ids = table.groups(columns, rows: n)
            guard ids.elementsEqual((0..<Int32(n))) else { throw FormatError("repeated group keys") }
        }
        func ints() throws -> [Int64] { try (0..<n).map { _ in try r.svarint() } }
        for a in accumulators {
            let tag = try r.u8()
            switch (tag, a) {
            case (1, let c as CountAccumulator): c.counts = try ints()
            case (2, let c as CountIfAccumulator): c.counts = try ints()
            case (3, let s as IntSumAccumulator): s.sums = try ints(); s.counts = try ints()
            case (4, let s as DoubleSumAccumulator): s.sums = try (0..<n).map { _ in try r.f64() }; s.counts = try ints()
            case (5, let e as ExtremeAccumulator): e.best = try (0..<n).map { _ in try Self.decodeValue(&r) }
            default: throw FormatError("aggregate \(tag) does not match the query's")
            }
        }
        guard r.remaining == 0 else { throw FormatError("\(r.remaining) bytes after an aggregate state") }
    }

    /// One value: a tag, then its payload (maps are not written: false).
    static func encode(_ v: Value, into w: inout ByteWriter) -> Bool {
        switch v {
        case .null: w.u8(0)
        case .bool(let b): w.u8(b ? 2 : 1)
        case .int(let i): w.u8(3); w.svarint(i)
        case .double(let d): w.u8(4); w.f64(d)
        case .string(let s): w.u8(5); w.string(s)
        case .timestamp(let t): w.u8(6); w.svarint(t)
        case .interval(let i): w.u8(7); w.svarint(i.months); w.svarint(i.days); w.svarint(i.micros)
        case .map: return false
        }
        return true
    }

    static func decodeValue(_ r: inout ByteReader) throws -> Value {
        switch try r.u8() {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .int(try r.svarint())
        case 4: return .double(try r.f64())
        case 5: return .string(try r.string())
        case 6: return .timestamp(try r.svarint())
        case 7: return .interval(Interval(months: try r.svarint(), days: try r.svarint(), micros: try r.svarint()))
        case let t: throw FormatError("value tag \(t)")
        }
    }
}
