import PlumbCore

/// A window in which a provider (or one model) failed: from its first bad minute to the end of
/// its last one, or ongoing.
public struct Incident: Sendable, Equatable {
    public var provider: String
    /// nil: the provider as a whole.
    public var model: String?
    public var kind: IncidentKind
    public var start: Int64
    public var end: Int64
    /// The last bad minute is the current (or the previous) minute.
    public var ongoing: Bool
    public var peakErrorRate: Double
    public var requests: Int64
    /// Failed requests (for a latency incident, every request in it was slow to some degree: all).
    public var affected: Int64
    public var failedCostUSD: Double

    /// The query that lists its spans.
    public var query: String {
        "SELECT * FROM spans WHERE " + Self.condition(provider: provider, model: model, start: start, end: end) + " ORDER BY ts_start"
    }

    /// The WHERE condition for an incident's spans; an ongoing one (no end) runs to now.
    public static func condition(provider: String, model: String?, start: Int64, end: Int64?) -> String {
        var q = "provider = '\(escape(provider))'"
        if let model { q += " AND model = '\(escape(model))'" }
        q += " AND ts_start >= '\(Timestamp.format(start))'"
        if let end { q += " AND ts_start < '\(Timestamp.format(end))'" }
        return q
    }

    static func escape(_ s: String) -> String { s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") }
}
