import PlumbCore

/// The statement: FROM, the select list (with `*`), WHERE, GROUP BY (names, aliases, positions,
/// expressions, ALL), HAVING, ORDER BY (aliases, positions, expressions), LIMIT and OFFSET.
extension Binder {
    public func bind(_ s: SelectStatement) throws -> BoundQuery {
        var q = BoundQuery()
        q.explain = s.explain
        q.distinct = s.distinct
        if let from = s.from {
            guard from.name == "spans" else {
                throw QueryError("unknown table \"\(from.name)\"", at: from.at, hint: "the only table is spans")
            }
        } else {
            q.hasFrom = false
            hasFrom = false
        }
        // Expand * into the table's columns.
        var items: [SelectItem] = []
        for item in s.items {
            if case .star(let at) = item.expr {
                guard q.hasFrom else { throw QueryError("SELECT * needs FROM spans", at: at) }
                items += SpanSchema.columns.map { SelectItem(expr: .column(name: $0.name, at: at), alias: nil) }
            } else {
                items.append(item)
            }
        }
        q.names = items.map { $0.alias ?? $0.expr.text }
        if let f = s.filter {
            q.filter = try coerce(try bind(f, .scan(clause: "WHERE")), to: .boolean, at: f.offset, what: "WHERE")
            q.filterText = f.text
        }
        let grouped = !s.groupBy.isEmpty || s.groupByAll || s.having != nil
            || items.contains { containsAggregate($0.expr) } || s.orderBy.contains { containsAggregate($0.expr) }
        let ctx: Context
        if grouped {
            let keyExprs = try groupKeys(s, items)
            let keys = try keyExprs.map { try bind($0, .scan(clause: "GROUP BY")) }
            for (k, key) in keys.enumerated() where key.type == .map {
                throw QueryError("cannot GROUP BY a map; group by one property, e.g. properties['team']", at: keyExprs[k].offset)
            }
            let g = Grouping(keyTexts: keyExprs.map(\.text), keyTypes: keys.map(\.type))
            ctx = .grouped(g)
            q.projections = try items.map { try bind($0.expr, ctx) }
            if let h = s.having {
                q.having = try coerce(try bind(h, ctx), to: .boolean, at: h.offset, what: "HAVING")
            }
            q.order = try orderKeys(s, items, q.projections, ctx)
            q.aggregate = AggregatePlan(keys: keys, keyTexts: g.keyTexts, aggregates: g.aggregates)
        } else {
            ctx = .scan(clause: "SELECT")
            q.projections = try items.map { try bind($0.expr, ctx) }
            q.order = try orderKeys(s, items, q.projections, .scan(clause: "ORDER BY"))
        }
        if s.distinct {
            for (k, o) in s.orderBy.enumerated() where resolveOrderTarget(o.expr, items) == nil {
                throw QueryError("for SELECT DISTINCT, ORDER BY expressions must appear in the select list", at: s.orderBy[k].expr.offset)
            }
        }
        q.limit = s.limit?.0
        q.offset = s.offset?.0 ?? 0
        q.scanColumns = scanColumns
        return q
    }

    func containsAggregate(_ e: Expr) -> Bool {
        switch e {
        case .function(let name, let args, _, let star, _):
            if AggregateFunction.named(name) != nil || (name == "count" && star) { return true }
            return args.contains(where: containsAggregate)
        case .column, .star, .literal: return false
        case .unary(_, let x, _), .isNull(let x, _, _), .cast(let x, _, _): return containsAggregate(x)
        case .binary(_, let a, let b, _), .like(let a, let b, _, _, _), .subscript_(let a, let b, _):
            return containsAggregate(a) || containsAggregate(b)
        case .inList(let x, let l, _, _): return containsAggregate(x) || l.contains(where: containsAggregate)
        case .between(let x, let lo, let hi, _, _): return containsAggregate(x) || containsAggregate(lo) || containsAggregate(hi)
        case .caseWhen(let o, let br, let other, _):
            return (o.map(containsAggregate) ?? false) || br.contains { containsAggregate($0.0) || containsAggregate($0.1) }
                || (other.map(containsAggregate) ?? false)
        }
    }

    /// GROUP BY items as expressions: a position names a select item, a name that is not a
    /// column names a select alias, ALL takes every select item without an aggregate.
    func groupKeys(_ s: SelectStatement, _ items: [SelectItem]) throws -> [Expr] {
        if s.groupByAll { return items.map(\.expr).filter { !containsAggregate($0) && !isConstant($0) } }
        return try s.groupBy.map { g in
            if case .literal(.integer(let k), let at) = g {
                guard k >= 1, k <= items.count else {
                    throw QueryError("GROUP BY position \(k) is not in the select list (1 to \(items.count))", at: at)
                }
                let e = items[Int(k) - 1].expr
                if containsAggregate(e) { throw QueryError("GROUP BY position \(k) refers to an aggregate", at: at) }
                return e
            }
            if case .column(let name, _) = g, SpanSchema.index(of: name) == nil,
               let item = items.first(where: { $0.alias == name }) {
                if containsAggregate(item.expr) { throw QueryError("GROUP BY \(name) refers to an aggregate", at: g.offset) }
                return item.expr
            }
            return g
        }
    }

    func isConstant(_ e: Expr) -> Bool { if case .literal = e { return true }; return false }

    /// The select item an ORDER BY term names: by position, alias or identical text.
    func resolveOrderTarget(_ e: Expr, _ items: [SelectItem]) -> Int? {
        if case .literal(.integer(let k), _) = e { return k >= 1 && k <= items.count ? Int(k) - 1 : nil }
        if case .column(let name, _) = e, let i = items.firstIndex(where: { $0.alias == name }) { return i }
        return items.firstIndex { $0.expr.text == e.text }
    }

    func orderKeys(_ s: SelectStatement, _ items: [SelectItem], _ projections: [BoundExpr], _ ctx: Context) throws -> [SortKey] {
        try s.orderBy.map { o in
            let bound: BoundExpr
            if case .literal(.integer(let k), let at) = o.expr, !(k >= 1 && k <= items.count) {
                throw QueryError("ORDER BY position \(k) is not in the select list (1 to \(items.count))", at: at)
            }
            if let i = resolveOrderTarget(o.expr, items) { bound = projections[i] } else { bound = try bind(o.expr, ctx) }
            if bound.type == .map { throw QueryError("cannot ORDER BY a map", at: o.expr.offset) }
            return SortKey(expr: bound, descending: o.descending, nullsFirst: o.nullsFirst ?? false, text: o.expr.text)
        }
    }
}
