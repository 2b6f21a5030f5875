/// How long an exporter waits before sending a batch again: exponential backoff with full
/// jitter in its upper half, never less than the receiver's `Retry-After`.
///
/// ```swift
/// let p = RetryPolicy()
/// p.delay(attempt: 3, retryAfter: nil)   // between 2 and 4 seconds
/// p.delay(attempt: 0, retryAfter: 7)     // 7 to 7.5 seconds
/// ```
public struct RetryPolicy: Sendable {
    public var initial = 0.5
    public var maximum = 30.0
    /// Rejections (4xx) of one batch before it is skipped.
    public var maxRejections = 3

    public init(initial: Double = 0.5, maximum: Double = 30, maxRejections: Int = 3) {
        self.initial = initial; self.maximum = maximum; self.maxRejections = maxRejections
    }

    public func delay(attempt: Int, retryAfter: Double?) -> Double {
        let base = min(maximum, initial * Double(1 << min(attempt, 20)))
        let jittered = base * Double.random(in: 0.5...1.0)
        guard let retryAfter else { return jittered }
        // The receiver's word wins, with a little jitter so a fleet does not come back at once.
        return retryAfter + Double.random(in: 0...min(0.5, max(0.05, retryAfter * 0.1)))
    }
}
