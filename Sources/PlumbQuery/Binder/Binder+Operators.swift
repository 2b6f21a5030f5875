/// Operators and implicit casts: numbers widen to DOUBLE, a string meets a timestamp or number
/// by being cast to it (so `ts_start >= '2026-11-01'` and `status = '200'` work, as in DuckDB),
/// NULL takes the other side's type.
extension Binder {
    func binary(_ op: BinaryOp, _ l: Expr, _ r: Expr, at: Int, _ ctx: Context) throws -> BoundExpr {
        var a = try bind(l, ctx), b = try bind(r, ctx)
        switch op {
        case .and, .or:
            a = try coerce(a, to: .boolean, at: l.offset, what: op.rawValue)
            b = try coerce(b, to: .boolean, at: r.offset, what: op.rawValue)
            return op == .and ? .and(a, b) : .or(a, b)
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
            let t = try commonType(a.type, b.type, at: at, what: op.rawValue, a, b)
            if t == .map { throw QueryError("cannot compare maps", at: at) }
            return .compare(op, try coerce(a, to: t, at: l.offset, what: op.rawValue), try coerce(b, to: t, at: r.offset, what: op.rawValue))
        case .concat:
            return .arithmetic(.concat, a, b, .varchar)
        case .add, .subtract, .multiply, .divide, .intDivide, .modulo:
            // A string constant next to a number or timestamp is read as one.
            if a.type == .varchar, a.constantValue != nil, b.type != .varchar, b.type != .null {
                a = try coerce(a, to: b.type == .interval ? .timestamp : b.type, at: l.offset, what: op.rawValue)
            }
            if b.type == .varchar, b.constantValue != nil, a.type != .varchar, a.type != .null {
                b = try coerce(b, to: a.type == .timestamp ? .interval : a.type, at: r.offset, what: op.rawValue)
            }
            let (x, y) = (a.type == .null ? b.type : a.type, b.type == .null ? a.type : b.type)
            switch (x, y, op) {
            case (.bigint, .bigint, .divide): return .arithmetic(op, a, b, .double)
            case (.bigint, .bigint, _): return .arithmetic(op, try coerce(a, to: .bigint, at: l.offset, what: op.rawValue), try coerce(b, to: .bigint, at: r.offset, what: op.rawValue), .bigint)
            case (.bigint, .double, _), (.double, .bigint, _), (.double, .double, _):
                return .arithmetic(op, try coerce(a, to: .double, at: l.offset, what: op.rawValue), try coerce(b, to: .double, at: r.offset, what: op.rawValue), .double)
            case (.timestamp, .interval, .add), (.interval, .timestamp, .add), (.timestamp, .interval, .subtract):
                return .arithmetic(op, a, b, .timestamp)
            case (.timestamp, .timestamp, .subtract), (.interval, .interval, .add), (.interval, .interval, .subtract),
                 (.interval, .bigint, .multiply), (.bigint, .interval, .multiply), (.interval, .double, .multiply), (.double, .interval, .multiply):
                return .arithmetic(op, a, b, .interval)
            case (.null, .null, _): return .constant(.null, .null)
            default:
                throw QueryError("cannot apply \(op.rawValue) to \(a.type) and \(b.type)", at: at,
                                 hint: x == .varchar || y == .varchar ? "use || to join strings" : nil)
            }
        }
    }

    /// The type both sides of a comparison (or the items of IN, COALESCE, CASE) are cast to.
    func commonType(_ a: SQLType, _ b: SQLType, at: Int, what: String, _ x: BoundExpr? = nil, _ y: BoundExpr? = nil) throws -> SQLType {
        if a == b { return a }
        if a == .null { return b }
        if b == .null { return a }
        if a.isNumeric && b.isNumeric { return .double }
        // A string constant adapts to the other side; a string column makes the other side a string
        // only for numbers (status = user_id compares text, as DuckDB does after its cast).
        if a == .varchar, x?.constantValue != nil { return b }
        if b == .varchar, y?.constantValue != nil { return a }
        if a == .varchar && b == .timestamp || a == .timestamp && b == .varchar { return .timestamp }
        if a == .varchar && b.isNumeric || b == .varchar && a.isNumeric { return a.isNumeric ? a : b }
        throw QueryError("cannot compare \(a) with \(b) in \(what)", at: at, hint: "add an explicit CAST(... AS type)")
    }

    /// `e` as type `t`: constants are converted now (an error points at them), the rest at run time.
    func coerce(_ e: BoundExpr, to t: SQLType, at: Int, what: String) throws -> BoundExpr {
        if e.type == t { return e }
        if let c = e.constantValue {
            do { return .constant(try Cast.value(c, to: t, strict: true), t) } catch let err as QueryError {
                throw QueryError("\(err.message) (in \(what))", at: at)
            }
        }
        switch (e.type, t) {
        case (.bigint, .double), (.varchar, .timestamp), (.varchar, .bigint), (.varchar, .double), (.varchar, .interval):
            return .cast(e, t)
        case (.boolean, .bigint), (.boolean, .double), (_, .varchar): return .cast(e, t)
        default:
            throw QueryError("\(what) expects \(t), found \(e.type)", at: at)
        }
    }

    func caseWhen(_ operand: Expr?, _ branches: [(Expr, Expr)], _ otherwise: Expr?, _ ctx: Context) throws -> BoundExpr {
        var conds: [BoundExpr] = []
        for (w, _) in branches {
            if let operand {
                conds.append(try binary(.equal, operand, w, at: w.offset, ctx))
            } else {
                conds.append(try coerce(try bind(w, ctx), to: .boolean, at: w.offset, what: "CASE WHEN"))
            }
        }
        let values = try branches.map { try bind($0.1, ctx) }
        let other = try otherwise.map { try bind($0, ctx) }
        var t = SQLType.null
        for (k, v) in values.enumerated() { t = try commonType(t, v.type, at: branches[k].1.offset, what: "CASE", nil, v) }
        if let other, let o = otherwise { t = try commonType(t, other.type, at: o.offset, what: "CASE", nil, other) }
        let cast = try values.enumerated().map { try coerce($0.element, to: t, at: branches[$0.offset].1.offset, what: "CASE") }
        let castOther = try other.map { try coerce($0, to: t, at: otherwise!.offset, what: "CASE") }
        return .caseWhen(Array(zip(conds, cast)), otherwise: castOther, t)
    }
}
