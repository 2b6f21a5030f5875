import Foundation

/// SQL text of an expression, canonical (lower-case names, parenthesised operators): the name of
/// an unaliased result column, and the key by which GROUP BY expressions are matched.
extension Expr {
    public var text: String {
        switch self {
        case .column(let n, _): return n
        case .star: return "*"
        case .literal(let l, _): return l.text
        case .unary(let op, let e, _): return op == .not ? "(NOT \(e.text))" : "(\(op.rawValue)\(e.text))"
        case .binary(let op, let a, let b, _): return "(\(a.text) \(op.rawValue) \(b.text))"
        case .function(let n, let args, let distinct, let star, _):
            if star { return n == "count" ? "count_star()" : "\(n)(*)" }
            return "\(n)(\(distinct ? "DISTINCT " : "")\(args.map(\.text).joined(separator: ", ")))"
        case .isNull(let e, let neg, _): return "(\(e.text) IS \(neg ? "NOT " : "")NULL)"
        case .inList(let e, let list, let neg, _):
            return "(\(e.text)\(neg ? " NOT" : "") IN (\(list.map(\.text).joined(separator: ", "))))"
        case .between(let e, let lo, let hi, let neg, _):
            return "(\(e.text)\(neg ? " NOT" : "") BETWEEN \(lo.text) AND \(hi.text))"
        case .like(let e, let p, let ci, let neg, _):
            return "(\(e.text)\(neg ? " NOT" : "") \(ci ? "ILIKE" : "LIKE") \(p.text))"
        case .caseWhen(let operand, let branches, let otherwise, _):
            var s = "CASE"
            if let operand { s += " \(operand.text)" }
            for (w, t) in branches { s += " WHEN \(w.text) THEN \(t.text)" }
            if let otherwise { s += " ELSE \(otherwise.text)" }
            return s + " END"
        case .cast(let e, let t, _): return "CAST(\(e.text) AS \(t.uppercased()))"
        case .subscript_(let e, let k, _): return "\(e.text)[\(k.text)]"
        }
    }
}

extension Literal {
    public var text: String {
        switch self {
        case .null: "NULL"
        case .bool(let b): b ? "true" : "false"
        case .integer(let i): String(i)
        case .decimal(let d): String(d)
        case .string(let s): "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        case .interval(let s): "INTERVAL '\(s)'"
        case .timestamp(let s): "TIMESTAMP '\(s)'"
        }
    }
}
