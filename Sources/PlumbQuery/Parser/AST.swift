/// The syntax tree of a query, as written (names unresolved). Every node keeps the byte offset
/// it starts at, so the binder can point at it.
public indirect enum Expr: Sendable, Equatable {
    case column(name: String, at: Int)
    case star(at: Int)
    case literal(Literal, at: Int)
    case unary(op: UnaryOp, Expr, at: Int)
    case binary(op: BinaryOp, Expr, Expr, at: Int)
    case function(name: String, args: [Expr], distinct: Bool, star: Bool, at: Int)
    case isNull(Expr, negated: Bool, at: Int)
    case inList(Expr, [Expr], negated: Bool, at: Int)
    case between(Expr, low: Expr, high: Expr, negated: Bool, at: Int)
    case like(Expr, pattern: Expr, caseInsensitive: Bool, negated: Bool, at: Int)
    case caseWhen(operand: Expr?, branches: [(Expr, Expr)], otherwise: Expr?, at: Int)
    /// `at`: where the type name is (for "unknown type").
    case cast(Expr, type: String, at: Int)
    case subscript_(Expr, key: Expr, at: Int)

    public var offset: Int {
        switch self {
        case .column(_, let at), .star(let at), .literal(_, let at), .unary(_, _, let at), .binary(_, _, _, let at),
             .function(_, _, _, _, let at), .isNull(_, _, let at), .inList(_, _, _, let at), .between(_, _, _, _, let at),
             .like(_, _, _, _, let at), .caseWhen(_, _, _, let at), .subscript_(_, _, let at):
            at
        case .cast(let x, _, _): x.offset          // a cast's own position is its type name's
        }
    }

    public static func == (a: Expr, b: Expr) -> Bool { a.text == b.text }
}

public enum Literal: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case decimal(Double)
    case string(String)
    case interval(String)              // INTERVAL '5 minutes', or INTERVAL 5 MINUTE as "5 minute"
    case timestamp(String)             // TIMESTAMP '2026-11-01 00:00:00'
}

public enum UnaryOp: String, Sendable { case negate = "-", plus = "+", not = "NOT" }

public enum BinaryOp: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", intDivide = "//", modulo = "%", concat = "||"
    case equal = "=", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case and = "AND", or = "OR"

    var isComparison: Bool { [.equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual].contains(self) }

    /// The comparison with its sides swapped (`a < b` is `b > a`).
    var flipped: BinaryOp {
        switch self {
        case .less: .greater
        case .lessEqual: .greaterEqual
        case .greater: .less
        case .greaterEqual: .lessEqual
        default: self
        }
    }
}

public struct SelectItem: Sendable, Equatable {
    public var expr: Expr
    public var alias: String?
}

public struct OrderItem: Sendable, Equatable {
    public var expr: Expr
    public var descending: Bool
    /// nil: the default (NULLS LAST, as DuckDB).
    public var nullsFirst: Bool?
}

public struct SelectStatement: Sendable, Equatable {
    public var distinct = false
    public var items: [SelectItem] = []
    /// The table named in FROM (nil: no FROM, one row) and where its name starts.
    public var from: (name: String, at: Int)?
    public var filter: Expr?
    public var groupBy: [Expr] = []
    public var groupByAll = false
    public var having: Expr?
    public var orderBy: [OrderItem] = []
    public var limit: (Int64, at: Int)?
    public var offset: (Int64, at: Int)?
    public var explain = false

    public static func == (a: SelectStatement, b: SelectStatement) -> Bool {
        a.items == b.items && a.filter == b.filter && a.groupBy == b.groupBy && a.orderBy == b.orderBy
    }
}
