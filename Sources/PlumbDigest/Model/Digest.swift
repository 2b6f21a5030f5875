import PlumbQuery

/// Everything a spend digest says about one period. Each figure comes from a query over the
/// spans (`DigestBuilder`), so it agrees with `plumb query` for the same period. JSON form:
/// `schemas/digest.schema.json`.
public struct Digest: Sendable {
    public var period: DigestPeriod
    public var generatedAt: Int64

    public var spend: Double
    public var previousSpend: Double
    /// Average spend per period over the trailing 7 days (4 weeks).
    public var baselineSpend: Double
    public var requests: Int64
    public var previousRequests: Int64
    public var failed: Int64
    public var tokens: Tokens
    /// What cached input tokens saved against the full input price (priced models only).
    public var cacheSavings: Double

    public var byProvider: [Breakdown.Row]
    public var byModel: [Breakdown.Row]
    public var byUser: [Breakdown.Row]
    public var byKey: [Breakdown.Row]
    /// One breakdown per property key seen in the period.
    public var byProperty: [(key: String, rows: [Breakdown.Row])]
    public var latency: [Latency]
    public var incidents: [Incident]
    public var unpriced: [Unpriced]
    public var anomalies: [Anomaly]
    public var newModels: [FirstSeen]
    public var newKeys: [FirstSeen]

    public var errorRate: Double { requests == 0 ? 0 : Double(failed) / Double(requests) }
    public var isEmpty: Bool { requests == 0 }

    public struct Tokens: Sendable, Equatable {
        public var input: Int64 = 0, output: Int64 = 0, cacheRead: Int64 = 0, cacheWrite: Int64 = 0, reasoning: Int64 = 0
    }

    public enum Breakdown {
        /// One entity's share; the last row of a cut list is "(others)", the rest summed.
        public struct Row: Sendable, Equatable {
            public var label: String
            public var spend: Double
            public var requests: Int64
            public var inputTokens: Int64
            public var outputTokens: Int64
            public var isOthers = false
        }
    }

    public struct Latency: Sendable, Equatable {
        public var provider: String
        public var requests: Int64
        public var p50: Double?, p95: Double?, ttftP50: Double?, ttftP95: Double?
    }

    public struct Unpriced: Sendable, Equatable {
        public var provider: String
        public var model: String
        public var requests: Int64
    }

    /// A user, key or model spending far above its own trailing average.
    public struct Anomaly: Sendable, Equatable {
        public var dimension: String          // "user", "key" or "model"
        public var label: String
        public var spend: Double
        /// Its average per period over the trailing window (0: it spent nothing then).
        public var baseline: Double
    }

    public struct FirstSeen: Sendable, Equatable {
        public var label: String
        public var firstSeen: Int64
        public var requests: Int64
        public var spend: Double
    }
}
