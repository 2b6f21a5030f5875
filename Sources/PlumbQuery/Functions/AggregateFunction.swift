/// The aggregate functions of the dialect and their result types, as DuckDB defines them:
/// count → BIGINT; sum of integers → BIGINT (checked), of doubles → DOUBLE; avg → DOUBLE;
/// min/max → the argument's type; median and quantile_cont → DOUBLE (TIMESTAMP for timestamps);
/// quantile_disc and approx_quantile → the argument's type.
public enum AggregateFunction: String, Sendable, CaseIterable {
    case countStar = "count_star"
    case count, sum, avg, min, max
    case countIf = "count_if"
    case median
    case quantileCont = "quantile_cont"
    case quantileDisc = "quantile_disc"
    case approxQuantile = "approx_quantile"
    case anyValue = "any_value"

    public static let aliases: [String: AggregateFunction] = [
        "mean": .avg, "quantile": .quantileDisc, "countif": .countIf, "first": .anyValue, "arbitrary": .anyValue,
    ]

    public static func named(_ name: String) -> AggregateFunction? {
        if name == "count_star" { return .countStar }
        return AggregateFunction(rawValue: name) ?? aliases[name]
    }

    /// Arguments besides the aggregated value (the quantile fraction).
    var takesFraction: Bool { [.quantileCont, .quantileDisc, .approxQuantile].contains(self) }

    func resultType(_ arg: SQLType) -> SQLType {
        switch self {
        case .countStar, .count, .countIf: .bigint
        case .sum: arg == .bigint || arg == .boolean ? .bigint : .double
        case .avg: .double
        case .min, .max, .anyValue, .quantileDisc, .approxQuantile: arg
        case .median, .quantileCont: arg == .timestamp ? .timestamp : .double
        }
    }
}

/// One aggregate of a query: the function, its argument over the scan's columns, DISTINCT, and
/// the quantile fraction.
public struct AggregateSpec: Sendable {
    public var function: AggregateFunction
    public var argument: BoundExpr?
    public var distinct: Bool
    public var fraction: Double?
    public var type: SQLType
    /// The SQL text, for EXPLAIN and to merge repeats (`sum(x)` in SELECT and HAVING is one).
    public var text: String
}
