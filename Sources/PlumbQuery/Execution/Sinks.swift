/// The operators after the scan and WHERE: each takes filtered batches and, at the end, emits
/// result batches of the select list.
protocol RowSink: AnyObject {
    /// False: no more input is needed (LIMIT reached).
    func consume(_ b: Batch) throws -> Bool
    func finish(_ emit: (Batch) throws -> Void) throws
}

/// SELECT list with LIMIT/OFFSET and no ORDER BY: rows go out as they come, and the scan stops
/// once the limit is reached, so memory stays flat however large the table.
final class StreamSink: RowSink {
    let projections: [BoundExpr]
    let prepare: (inout Batch) -> Void
    var skip: Int64
    var remaining: Int64?
    var emitNow: ((Batch) throws -> Void)?
    var pending: [Batch] = []

    init(projections: [BoundExpr], offset: Int64, limit: Int64?, prepare: @escaping (inout Batch) -> Void) {
        self.projections = projections; skip = offset; remaining = limit; self.prepare = prepare
    }

    func consume(_ input: Batch) throws -> Bool {
        var b = input
        if remaining == 0 { return false }
        if skip > 0 {
            let drop = Int(min(skip, Int64(b.count)))
            skip -= Int64(drop)
            if drop == b.count { return true }
            b = b.gather(Array(drop..<b.count))
        }
        if let r = remaining, Int64(b.count) > r { b = b.gather(Array(0..<Int(r))) }
        remaining = remaining.map { $0 - Int64(b.count) }
        prepare(&b)
        let out = Batch(columns: try projections.map { try Evaluator.evaluate($0, b) }, count: b.count)
        if let emitNow { try emitNow(out) } else { pending.append(out) }
        return remaining != 0
    }

    func finish(_ emit: (Batch) throws -> Void) throws {
        for b in pending { try emit(b) }
        pending = []
    }
}

/// ORDER BY and/or DISTINCT: keeps the projected rows and their sort keys, sorts at the end.
/// With a LIMIT it keeps only the best OFFSET+LIMIT rows seen so far (pruned in rounds).
final class SortSink: RowSink {
    let projections: [BoundExpr]
    let order: [SortKey]
    let distinct: Bool
    let offset: Int64
    let limit: Int64?
    let prepare: (inout Batch) -> Void
    var columns: [[Vector]]             // per output column (projections then keys), the parts
    var rows = 0

    init(projections: [BoundExpr], order: [SortKey], distinct: Bool, offset: Int64, limit: Int64?, prepare: @escaping (inout Batch) -> Void) {
        self.projections = projections; self.order = order; self.distinct = distinct
        self.offset = offset; self.limit = limit; self.prepare = prepare
        columns = Array(repeating: [], count: projections.count + order.count)
    }

    var keep: Int? { limit.map { Int(min(Int64(Int.max / 4), offset.addingReportingOverflow($0).overflow ? Int64.max : offset + $0)) } }

    func consume(_ input: Batch) throws -> Bool {
        var b = input
        // Top-k: rank the batch by its sort keys first and keep only its best `keep` rows, so the
        // select list (and bodies) are computed for those alone.
        if let keep, !distinct, !order.isEmpty, b.count > keep {
            var keys = try order.map { try Evaluator.evaluate($0.expr, b) }
            if let candidates = Self.numericCandidates(keys, order, keep), candidates.count < b.count {
                b = b.gather(candidates)
                keys = keys.map { $0.gather(candidates) }
            }
            let best = RowOrder(keys: keys, descending: order.map(\.descending), nullsFirst: order.map(\.nullsFirst))
                .best(keep, of: b.count)
            b = b.gather(best.sorted())
        }
        prepare(&b)
        for (k, e) in (projections + order.map(\.expr)).enumerated() { columns[k].append(try Evaluator.evaluate(e, b)) }
        rows += b.count
        if let keep, !distinct, rows > max(4096, keep * 2) { compact(keep) }
        return true
    }

    /// With one numeric sort key: the rows whose key is at least as good as the batch's k-th
    /// best (found by selection), a small superset of the batch's top k. nil when the shortcut
    /// does not apply (NULLs first, NaN, fewer values than k).
    static func numericCandidates(_ keys: [Vector], _ order: [SortKey], _ k: Int) -> [Int]? {
        guard keys.count == 1, !order[0].nullsFirst, [.bigint, .double, .timestamp].contains(keys[0].type) else { return nil }
        if case .constant = keys[0].data { return nil }
        let x = Columns.doubles(keys[0])
        let valid = keys[0].validity
        var present: [Double] = []
        present.reserveCapacity(x.count)
        for i in x.indices where valid?[i] ?? true {
            if x[i].isNaN { return nil }
            present.append(x[i])
        }
        guard present.count > k else { return nil }
        let desc = order[0].descending
        let pos = desc ? present.count - k : k - 1
        Selection.select(&present, pos, <)
        let t = present[pos]
        var out: [Int] = []
        for i in x.indices where (valid?[i] ?? true) && (desc ? x[i] >= t : x[i] <= t) { out.append(i) }
        return out
    }

    /// With a LIMIT and a numeric first sort key (NULLS LAST): once the rows held are enough,
    /// the k-th best value of that key among them. A row worse than it cannot enter the result
    /// (a tie still can, through the later keys). nil until then.
    func firstKeyBound() -> Double? {
        guard let keep, keep > 0, !distinct, let first = order.first, !first.nullsFirst, rows >= keep,
              [.bigint, .double, .timestamp].contains(first.expr.type) else { return nil }
        var values: [Double] = []
        for part in columns[projections.count] {
            let x = Columns.doubles(part)
            for i in x.indices where part.isValid(i) { if x[i].isNaN { return nil }; values.append(x[i]) }
        }
        guard values.count >= keep else { return nil }
        let pos = first.descending ? values.count - keep : keep - 1
        Selection.select(&values, pos, <)
        return values[pos]
    }

    var types: [SQLType] { projections.map(\.type) + order.map(\.expr.type) }

    func merged() -> [Vector] {
        zip(columns, types).map { Vector.concatenate($0.0.map { $0.materialized() }, type: $0.1) }
    }

    /// Keeps the first `n` rows of what is held (in order).
    func compact(_ n: Int) {
        let all = merged()
        let perm = RowOrder(keys: Array(all.suffix(order.count)), descending: order.map(\.descending), nullsFirst: order.map(\.nullsFirst))
            .best(n, of: rows)
        columns = all.map { [$0.gather(perm)] }
        rows = perm.count
    }

    func finish(_ emit: (Batch) throws -> Void) throws {
        var all = merged()
        if distinct {
            var seen = Set<[Value]>()
            var keepRows: [Int] = []
            for r in 0..<rows {
                let key = (0..<projections.count).map { all[$0].value(at: r) }
                if seen.insert(key).inserted { keepRows.append(r) }
            }
            all = all.map { $0.gather(keepRows) }
            rows = keepRows.count
        }
        var perm = RowOrder(keys: Array(all.suffix(order.count)), descending: order.map(\.descending), nullsFirst: order.map(\.nullsFirst))
            .permutation(rows)
        let start = min(perm.count, Int(min(offset, Int64(perm.count))))
        perm = Array(perm[start...])
        if let limit, perm.count > limit { perm = Array(perm.prefix(Int(limit))) }
        let out = all.prefix(projections.count).map { $0.gather(perm) }
        try emit(Batch(columns: Array(out), count: perm.count))
    }
}

extension Vector {
    /// Constants expanded to full vectors (so parts of one column can be concatenated).
    func materialized() -> Vector {
        guard case .constant(let v, let n) = data else { return self }
        return Vector.from([Value](repeating: v, count: n), type: type)
    }
}
