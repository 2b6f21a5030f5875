import PlumbCore

/// A time past which a query stops with an error: an HTTP caller's `query_timeout`, so that one
/// request cannot hold a server's threads for as long as it likes. Checked between row groups.
///
/// ```swift
/// var engine = QueryEngine(directory: dir)
/// engine.deadline = QueryDeadline(seconds: 30)
/// try engine.run(sql, begin: { _ in }, emit: { _ in })   // throws QueryDeadline.Exceeded after 30 s
/// ```
public struct QueryDeadline: Sendable {
    public let seconds: Double
    let endNanos: UInt64

    public init(seconds: Double) {
        self.seconds = seconds
        endNanos = Monotonic.nanos() &+ UInt64(max(0, seconds) * 1e9)
    }

    public struct Exceeded: Error, CustomStringConvertible {
        public let seconds: Double
        public var description: String {
            "the query ran longer than \(seconds.formatted) s (query_timeout): narrow its time range, or add a LIMIT"
        }
    }

    public func check() throws {
        if Monotonic.nanos() > endNanos { throw Exceeded(seconds: seconds) }
    }
}

extension Double {
    /// `30` rather than `30.0`.
    fileprivate var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}
