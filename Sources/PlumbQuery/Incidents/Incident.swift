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
        var q = "SELECT * FROM spans WHERE provider = '\(Self.escape(provider))'"
        if let model { q += " AND model = '\(Self.escape(model))'" }
        q += " AND ts_start >= '\(Timestamp.format(start))' AND ts_start < '\(Timestamp.format(end))' ORDER BY ts_start"
        return q
    }

    static func escape(_ s: String) -> String { s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") }
}
