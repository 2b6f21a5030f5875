/// A bound expression's canonical text: equal texts mean equal expressions (types and folded
/// constants included). Partial aggregates are kept under it (`PartialAggregateCache`), frame
/// after frame, so it is written out here rather than left to `String(describing:)`, whose
/// reflection took some 4% of a dashboard's first frame.
///
/// ```swift
/// BoundExpr.compare(.less, .column(0, .bigint), .constant(.int(5), .bigint)).key
/// // "(< #0:BIGINT 5:BIGINT)"
/// ```
extension BoundExpr {
    public var key: String {
        switch self {
        case .column(let i, let t): "#\(i):\(t)"
        case .constant(let v, let t): "\(v.key):\(t)"
        case .negate(let e): "(neg \(e.key))"
        case .not(let e): "(not \(e.key))"
        case .arithmetic(let op, let a, let b, let t): "(\(op.rawValue) \(a.key) \(b.key)):\(t)"
        case .compare(let op, let a, let b): "(\(op.rawValue) \(a.key) \(b.key))"
        case .and(let a, let b): "(and \(a.key) \(b.key))"
        case .or(let a, let b): "(or \(a.key) \(b.key))"
        case .isNull(let e, let negated): "(\(negated ? "notnull" : "isnull") \(e.key))"
        case .inList(let e, let list, let negated): "(\(negated ? "notin" : "in") \(e.key) \(Self.keys(list)))"
        case .like(let e, let p, let ci, let negated):
            "(\(negated ? "not" : "")\(ci ? "ilike" : "like") \(e.key) \(p.key))"
        case .caseWhen(let branches, let otherwise, let t):
            "(case \(branches.map { "\($0.0.key) \($0.1.key)" }.joined(separator: " ")) else \(otherwise?.key ?? "-")):\(t)"
        case .cast(let e, let t): "(cast \(e.key)):\(t)"
        case .function(let f, let args, let t): "(\(f.rawValue) \(Self.keys(args))):\(t)"
        case .mapExtract(let m, let k): "(at \(m.key) \(k.key))"
        }
    }

    static func keys(_ list: [BoundExpr]) -> String { "[" + list.map(\.key).joined(separator: " ") + "]" }
}

extension Value {
    /// Unambiguous: strings carry their length, doubles their bits.
    var key: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): "\(i)"
        case .double(let d): "d\(d.bitPattern)"
        case .string(let s): "s\(s.utf8.count)'\(s)"
        case .timestamp(let t): "t\(t)"
        case .interval(let i): "i\(i.months),\(i.days),\(i.micros)"
        case .map(let m): "m{" + m.sorted { $0.key < $1.key }.map { "\($0.key.utf8.count)'\($0.key)=\($0.value.utf8.count)'\($0.value)" }.joined(separator: ",") + "}"
        }
    }
}

extension AggregateSpec {
    /// The bound aggregate's canonical text (`BoundExpr.key` for its argument).
    var key: String {
        "\(function.rawValue)(\(distinct ? "distinct " : "")\(argument?.key ?? "*")\(fraction.map { ",\($0.bitPattern)" } ?? "")):\(type)"
    }
}
