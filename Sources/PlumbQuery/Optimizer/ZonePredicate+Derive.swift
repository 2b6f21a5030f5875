/// Finding zone predicates in a bound filter.
extension ZonePredicate {
    public static func derive(from filter: BoundExpr?, columns: [String]) -> [ZonePredicate] {
        guard let filter else { return [] }
        var out: [ZonePredicate] = []
        for term in conjuncts(filter) {
            if let p = predicate(term, columns) { out.append(p) }
        }
        return out
    }

    /// The filter's top-level AND terms, each with the zone predicate equivalent to it (if any):
    /// a row group whose zone map proves the predicate for every row skips the term. An IN list
    /// of several values only implies its range (`x IN (1, 20)` is not `1 <= x <= 20`): it
    /// prunes row groups (`derive`) but is always evaluated.
    public static func terms(of filter: BoundExpr?, columns: [String]) -> [(term: BoundExpr, predicate: ZonePredicate?)] {
        guard let filter else { return [] }
        return conjuncts(filter).map { term in
            if case .inList(_, let items, _) = term, Set(items.compactMap(\.constantValue)).count > 1 { return (term, nil) }
            return (term, predicate(term, columns))
        }
    }

    static func conjuncts(_ e: BoundExpr) -> [BoundExpr] {
        if case .and(let a, let b) = e { return conjuncts(a) + conjuncts(b) }
        return [e]
    }

    /// A stored column read directly (or only widened to DOUBLE).
    static func column(_ e: BoundExpr, _ columns: [String]) -> String? {
        switch e {
        case .column(let i, _): return columns[i]
        case .cast(.column(let i, .bigint), .double): return columns[i]
        default: return nil
        }
    }

    static func bound(_ v: Value) -> Bound? {
        switch v {
        case .int(let i), .timestamp(let i): .int(i)
        case .double(let d): d.isNaN ? nil : .double(d)
        case .string(let s): .string(s)
        case .bool(let b): .int(b ? 1 : 0)
        default: nil
        }
    }

    static func predicate(_ e: BoundExpr, _ columns: [String]) -> ZonePredicate? {
        switch e {
        case .compare(let op, let a, let b):
            var op = op
            var col = column(a, columns), constant = b.constantValue
            if col == nil || constant == nil {
                col = column(b, columns); constant = a.constantValue
                switch op {                                   // 5 < x  is  x > 5
                case .less: op = .greater
                case .lessEqual: op = .greaterEqual
                case .greater: op = .less
                case .greaterEqual: op = .lessEqual
                default: break
                }
            }
            guard let col, let constant, let b = bound(constant), !col.hasSuffix("_body"), col != "properties" else { return nil }
            var p = ZonePredicate(column: col)
            switch op {
            case .equal: p.lower = (b, true); p.upper = (b, true)
            case .less: p.upper = (b, false)
            case .lessEqual: p.upper = (b, true)
            case .greater: p.lower = (b, false)
            case .greaterEqual: p.lower = (b, true)
            default: return nil
            }
            return p
        case .inList(let x, let items, false):
            guard let col = column(x, columns), !col.hasSuffix("_body") else { return nil }
            let values = items.compactMap(\.constantValue).filter { !$0.isNull }
            guard values.count == items.count, let lo = values.min(by: { ValueOrder.compare($0, $1) < 0 }),
                  let hi = values.max(by: { ValueOrder.compare($0, $1) < 0 }), let l = bound(lo), let h = bound(hi) else { return nil }
            var p = ZonePredicate(column: col)
            p.lower = (l, true); p.upper = (h, true)
            return p
        case .isNull(let x, let negated):
            guard let col = column(x, columns), !col.hasSuffix("_body"), col != "properties" else { return nil }
            var p = ZonePredicate(column: col)
            p.isNull = !negated
            return p
        default:
            return nil
        }
    }

    init(column: String) { self.column = column }
}
