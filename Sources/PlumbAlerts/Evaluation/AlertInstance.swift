import PlumbCore

/// One thing a rule finds firing now: its key (what it is about), its state (what is wrong:
/// `outage`, `80%`, `over`), a one-line summary, figures, and the query that lists its spans.
public struct AlertInstance: Sendable, Equatable {
    public var key: String
    public var state: String
    public var summary: String
    public var figures: [String: JSONValue]
    public var query: String?

    public init(key: String, state: String, summary: String, figures: [String: JSONValue] = [:], query: String? = nil) {
        self.key = key; self.state = state; self.summary = summary; self.figures = figures; self.query = query
    }
}

/// A budget as the proxy counts it, for budget alerts.
public struct BudgetStatus: Sendable, Equatable {
    public var name: String
    public var spentNanos: Int64
    public var amountNanos: Int64

    public init(name: String, spentNanos: Int64, amountNanos: Int64) {
        self.name = name; self.spentNanos = spentNanos; self.amountNanos = amountNanos
    }
}
