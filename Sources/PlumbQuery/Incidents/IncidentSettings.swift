/// When a minute counts as bad, and how bad minutes become incidents. Config: `[incidents]`
/// (schemas/config.md).
///
/// ```swift
/// var s = IncidentSettings(); s.errorRate = 0.5
/// ```
public struct IncidentSettings: Sendable, Equatable {
    /// A minute with at least `minRequests` requests, `minFailures` failures and this share failed.
    public var errorRate = 0.25
    public var minRequests = 5
    public var minFailures = 3
    /// A minute with at least this many requests and no success at all is an outage.
    public var outageMinRequests = 3
    /// A minute whose p95 latency exceeds this multiple of its trailing baseline (the median
    /// p95 of the previous `baselineMinutes` good minutes with enough requests) is slow; two or
    /// more slow minutes close together are a latency incident.
    public var latencyMultiple = 3.0
    /// Requests a minute needs before its p95 counts.
    public var latencyMinRequests = 20
    /// How unlikely the failures must be under the scope's normal failure rate (a one-sided
    /// binomial test): guards against calling chance an incident on quiet scopes.
    public var significance = 1e-9
    /// Slow minutes a latency incident needs.
    public var latencyMinMinutes = 3
    public var baselineMinutes = 60
    /// Failing minutes still belong to one incident when at most this many minutes with requests
    /// and no trouble lie between them (minutes without requests do not count, up to
    /// `maxQuietMinutes`): quiet providers fail a request at a time.
    public var mergeGapMinutes = 2
    public var maxQuietMinutes = 15

    public init() {}
}

/// What went wrong in an incident, most severe first.
public enum IncidentKind: String, Sendable, Comparable {
    case outage, errors, latency

    var severity: Int { self == .outage ? 0 : (self == .errors ? 1 : 2) }
    public static func < (a: IncidentKind, b: IncidentKind) -> Bool { a.severity < b.severity }
}
