/// An expression with names resolved to column positions, types known and implicit casts made
/// explicit; what the executor evaluates, batch by batch.
public indirect enum BoundExpr: Sendable {
    case column(Int, SQLType)
    case constant(Value, SQLType)
    case negate(BoundExpr)
    case not(BoundExpr)
    case arithmetic(BinaryOp, BoundExpr, BoundExpr, SQLType)
    /// Both sides already of one type.
    case compare(BinaryOp, BoundExpr, BoundExpr)
    case and(BoundExpr, BoundExpr)
    case or(BoundExpr, BoundExpr)
    case isNull(BoundExpr, negated: Bool)
    /// The list already cast to the operand's type.
    case inList(BoundExpr, [BoundExpr], negated: Bool)
    case like(BoundExpr, pattern: BoundExpr, caseInsensitive: Bool, negated: Bool)
    case caseWhen([(BoundExpr, BoundExpr)], otherwise: BoundExpr?, SQLType)
    case cast(BoundExpr, SQLType)
    case function(ScalarFunction, [BoundExpr], SQLType)
    case mapExtract(BoundExpr, key: BoundExpr)

    public var type: SQLType {
        switch self {
        case .column(_, let t), .constant(_, let t), .arithmetic(_, _, _, let t), .caseWhen(_, _, let t),
             .cast(_, let t), .function(_, _, let t):
            t
        case .negate(let e): e.type
        case .not, .compare, .and, .or, .isNull, .inList, .like: .boolean
        case .mapExtract: .varchar
        }
    }

    /// The columns of the input layout this expression reads.
    public var columnsRead: Set<Int> {
        switch self {
        case .column(let i, _): [i]
        case .constant: []
        case .negate(let e), .not(let e), .isNull(let e, _), .cast(let e, _): e.columnsRead
        case .arithmetic(_, let a, let b, _), .compare(_, let a, let b), .and(let a, let b), .or(let a, let b):
            a.columnsRead.union(b.columnsRead)
        case .inList(let e, let l, _): l.reduce(e.columnsRead) { $0.union($1.columnsRead) }
        case .like(let e, let p, _, _): e.columnsRead.union(p.columnsRead)
        case .caseWhen(let br, let o, _):
            br.reduce(o?.columnsRead ?? []) { $0.union($1.0.columnsRead).union($1.1.columnsRead) }
        case .function(_, let args, _): args.reduce([]) { $0.union($1.columnsRead) }
        case .mapExtract(let m, let k): m.columnsRead.union(k.columnsRead)
        }
    }

    public var constantValue: Value? {
        if case .constant(let v, _) = self { return v }
        return nil
    }
}
