import PlumbStore

/// Evaluates bound expressions over a batch, a column at a time: typed loops for the common
/// cases (numbers, timestamps, dictionary-coded strings against constants), value by value for
/// the rest.
///
/// ```swift
/// let mask = try Evaluator.evaluate(filter, batch)      // BOOLEAN vector
/// ```
public enum Evaluator {
    public static func evaluate(_ e: BoundExpr, _ b: Batch) throws -> Vector {
        switch e {
        case .column(let i, _): return b.columns[i]
        case .constant(let v, let t): return .constant(v, type: t, count: b.count)
        case .negate(let x): return try negate(try evaluate(x, b))
        case .not(let x):
            let v = try evaluate(x, b)
            if case .constant(let c, _) = v.data { return .constant(c.isNull ? .null : .bool(!(c == .bool(true))), type: .boolean, count: b.count) }
            let bools = Columns.bools(v)
            return Vector(type: .boolean, data: .bool(bools.map { !$0 }), validity: v.validity)
        case .arithmetic(let op, let l, let r, let t): return try arithmetic(op, try evaluate(l, b), try evaluate(r, b), t)
        case .compare(let op, let l, let r): return try compare(op, try evaluate(l, b), try evaluate(r, b))
        case .and(let l, let r): return logical(isAnd: true, try evaluate(l, b), try evaluate(r, b))
        case .or(let l, let r): return logical(isAnd: false, try evaluate(l, b), try evaluate(r, b))
        case .isNull(let x, let negated):
            let v = try evaluate(x, b)
            if case .constant(let c, _) = v.data { return .constant(.bool(c.isNull != negated), type: .boolean, count: b.count) }
            guard let valid = v.validity else { return .constant(.bool(negated), type: .boolean, count: b.count) }
            return Vector(type: .boolean, data: .bool(negated ? valid : valid.map { !$0 }))
        case .inList(let x, let list, let negated):
            try b.deadline?.check()
            return try inList(try evaluate(x, b), list, negated: negated, b)
        case .like(let x, let p, let ci, let negated):
            try b.deadline?.check()
            return try like(try evaluate(x, b), try evaluate(p, b), ci, negated)
        case .caseWhen(let branches, let otherwise, let t):
            try b.deadline?.check()
            return try caseWhen(branches, otherwise, t, b)
        case .cast(let x, let t):
            try b.deadline?.check()
            return try Cast.vector(try evaluate(x, b), to: t)
        case .function(let f, let args, let t):
            try b.deadline?.check()
            return try f.evaluate(try args.map { try evaluate($0, b) }, type: t, count: b.count)
        case .mapExtract(let m, let k): return mapExtract(try evaluate(m, b), try evaluate(k, b))
        }
    }

    /// Rows where a BOOLEAN vector is true (not false, not NULL).
    public static func selected(_ v: Vector) -> [Int] {
        if case .constant(let c, let n) = v.data { return c == .bool(true) ? Array(0..<n) : [] }
        guard case .bool(let bools) = v.data else { return [] }
        var out: [Int] = []
        out.reserveCapacity(bools.count)
        if let valid = v.validity {
            for i in bools.indices where bools[i] && valid[i] { out.append(i) }
        } else {
            for i in bools.indices where bools[i] { out.append(i) }
        }
        return out
    }

    static func negate(_ v: Vector) throws -> Vector {
        switch v.data {
        case .int(let x):
            var out = [Int64](repeating: 0, count: x.count)
            for i in x.indices {
                let (r, o) = Int64(0).subtractingReportingOverflow(x[i])
                if o && v.isValid(i) { throw QueryError("Overflow in negation of BIGINT (\(x[i]))") }
                out[i] = r
            }
            return Vector(type: v.type, data: .int(out), validity: v.validity)
        case .double(let x): return Vector(type: v.type, data: .double(x.map { -$0 }), validity: v.validity)
        default: return try rowWise(v.type, [v], count: v.count) { args in
            switch args[0] {
            case .int(let i):
                guard i != .min else { throw QueryError("Overflow in negation of BIGINT (\(i))") }
                return .int(-i)
            case .double(let d): return .double(-d)
            case .interval(let iv): return .interval(iv.negated)
            default: return .null
            }
        }
        }
    }

    static func logical(isAnd: Bool, _ a: Vector, _ b: Vector) -> Vector {
        let n = max(a.count, b.count)
        let x = Columns.bools(a), y = Columns.bools(b)
        var out = [Bool](repeating: false, count: n)
        var valid: [Bool]? = nil
        let av = a.validity ?? (a.isConstantNull ? [Bool](repeating: false, count: n) : nil)
        let bv = b.validity ?? (b.isConstantNull ? [Bool](repeating: false, count: n) : nil)
        if av == nil && bv == nil {
            x.withUnsafeBufferPointer { x in y.withUnsafeBufferPointer { y in out.withUnsafeMutableBufferPointer { o in
                if isAnd { for i in 0..<n { o[i] = x[i] && y[i] } } else { for i in 0..<n { o[i] = x[i] || y[i] } }
            } } }
        } else {
            var v = [Bool](repeating: true, count: n)
            for i in 0..<n {
                let pa = av?[i] ?? true, pb = bv?[i] ?? true
                // Three-valued logic: a definite false (AND) or true (OR) on either side decides.
                let decider = !isAnd
                if (pa && x[i] == decider) || (pb && y[i] == decider) { out[i] = decider }
                else if pa && pb { out[i] = !decider }
                else { v[i] = false }
            }
            valid = v
        }
        return Vector(type: .boolean, data: .bool(out), validity: valid)
    }

    static func caseWhen(_ branches: [(BoundExpr, BoundExpr)], _ otherwise: BoundExpr?, _ t: SQLType, _ b: Batch) throws -> Vector {
        // Each branch's value is computed only for the rows that reach it (so `CASE WHEN x = 0
        // THEN 0 ELSE y // x END` never divides by zero), then scattered into place.
        var result = [Value](repeating: .null, count: b.count)
        var remaining = Array(0..<b.count)
        for (cond, value) in branches where !remaining.isEmpty {
            let sub = remaining.count == b.count ? b : b.gather(remaining)
            let hit = Set(selected(try evaluate(cond, sub)))
            if hit.isEmpty { continue }
            let hitRows = hit.sorted()
            let vals = try evaluate(value, sub.gather(hitRows))
            for (k, r) in hitRows.enumerated() { result[remaining[r]] = vals.value(at: k) }
            remaining = remaining.enumerated().filter { !hit.contains($0.offset) }.map(\.element)
        }
        if let otherwise, !remaining.isEmpty {
            let vals = try evaluate(otherwise, b.gather(remaining))
            for (k, r) in remaining.enumerated() { result[r] = vals.value(at: k) }
        }
        return Vector.from(result.map { Cast.value($0, to: t) ?? .null }, type: t)
    }

    static func mapExtract(_ m: Vector, _ k: Vector) -> Vector {
        var strings = [String](repeating: "", count: m.count)
        var valid = [Bool](repeating: false, count: m.count)
        let keys = Columns.strings(k)
        if case .map(let maps) = m.data {
            for i in maps.indices where m.isValid(i) && k.isValid(i) {
                if let s = maps[i][keys[i]] { strings[i] = s; valid[i] = true }
            }
        }
        return Vector(type: .varchar, data: .string(strings), validity: valid)
    }

    /// Applies `f` row by row; any NULL argument gives NULL without calling `f`, unless `nullsIn`.
    static func rowWise(_ t: SQLType, _ args: [Vector], count: Int, nullsIn: Bool = false,
                        _ f: ([Value]) throws -> Value) throws -> Vector {
        var builder = VectorBuilder(type: t, capacity: count)
        var row = [Value](repeating: .null, count: args.count)
        for i in 0..<count {
            var anyNull = false
            for (k, a) in args.enumerated() { row[k] = a.value(at: i); if row[k].isNull { anyNull = true } }
            builder.append(anyNull && !nullsIn ? .null : try f(row))
        }
        return builder.finish()
    }
}

extension Vector {
    var isConstantNull: Bool { if case .constant(let v, _) = data { return v.isNull }; return false }
}
