/// A query with every name resolved: what the planner turns into operators.
///
/// Layouts: `filter`, aggregate keys and arguments, and (for a plain query) `projections` and
/// `order` read the scan's columns (`scanColumns`, in that order). For a grouped query,
/// `having`, `projections` and `order` read the aggregate's output: its keys, then its aggregates.
public struct BoundQuery: Sendable {
    public var scanColumns: [String] = []
    public var hasFrom = true
    public var filter: BoundExpr?
    public var aggregate: AggregatePlan?
    public var having: BoundExpr?
    public var projections: [BoundExpr] = []
    public var names: [String] = []
    public var distinct = false
    public var order: [SortKey] = []
    public var limit: Int64?
    public var offset: Int64 = 0
    public var explain = false
    /// The SQL text of the WHERE clause and of the keys, for EXPLAIN.
    public var filterText: String?
}

public struct AggregatePlan: Sendable {
    public var keys: [BoundExpr]
    public var keyTexts: [String]
    public var aggregates: [AggregateSpec]
}

public struct SortKey: Sendable {
    public var expr: BoundExpr
    public var descending: Bool
    public var nullsFirst: Bool
    public var text: String
}
