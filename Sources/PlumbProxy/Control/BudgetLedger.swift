import Foundation
import PlumbCore

/// One budget's spend in its current period: what recorded spans cost, plus an estimate for
/// the calls in flight, in nanodollars. Calendar periods reset at their end; a rolling window
/// keeps its spend in `bucketCount` time buckets and lets the oldest fall out (up to one
/// bucket, 1/1440 of the window, early).
///
/// ```swift
/// let l = BudgetLedger(name: "search", scope: .key("search"), spec: try BudgetSpec.parse("200/month"), zone: .gmt, now: now)
/// l.spend(nanos, at: span.tsStart, now: now)
/// l.spent(now: now) + l.inFlight >= l.spec.amountNanos     // exhausted
/// ```
final class BudgetLedger: @unchecked Sendable {   // guarded by ControlPlane's lock
    let name: String
    let scope: PolicyScope
    let spec: BudgetSpec
    let zone: TimeZone
    /// Estimated cost of the calls admitted and not yet recorded.
    var inFlight: Int64 = 0
    private(set) var start: Int64 = 0
    private(set) var end: Int64 = 0
    private var spentInPeriod: Int64 = 0
    /// Rolling windows: spend by bucket, and which bucket (time / bucketMicros) each holds.
    private var buckets: [Int64] = []
    private var bucketStamps: [Int64] = []
    let bucketMicros: Int64
    static let bucketCount = 1440

    init(name: String, scope: PolicyScope, spec: BudgetSpec, zone: TimeZone, now: Int64) {
        self.name = name; self.scope = scope; self.spec = spec; self.zone = zone
        if case .rolling(let w) = spec.period {
            // Spend leaves the window up to one bucket (1/1440 of it) early: a minute of a day.
            // Spend loaded from the store at start comes by minute, at the minute's start.
            bucketMicros = max(1_000, w / Int64(Self.bucketCount))
            buckets = Array(repeating: 0, count: Self.bucketCount + 1)
            bucketStamps = Array(repeating: .min, count: Self.bucketCount + 1)
        } else {
            bucketMicros = 0
        }
        roll(now: now)
    }

    var isRolling: Bool { bucketMicros > 0 }

    /// Moves a calendar budget into the period holding `now` (its spend starts from 0).
    func roll(now: Int64) {
        guard !isRolling else { return }
        guard now >= end || now < start else { return }
        (start, end) = spec.period.window(at: now, in: zone)
        spentInPeriod = 0
    }

    /// Adds the cost of a span that started at `at`.
    func spend(_ nanos: Int64, at: Int64, now: Int64) {
        guard nanos > 0 else { return }
        if isRolling {
            guard case .rolling(let w) = spec.period, at > now - w else { return }
            let b = at / bucketMicros
            let i = Int(b % Int64(buckets.count))
            if bucketStamps[i] != b { bucketStamps[i] = b; buckets[i] = 0 }
            buckets[i] += nanos
        } else {
            roll(now: now)
            if at >= start && at < end { spentInPeriod += nanos }
        }
    }

    func spent(now: Int64) -> Int64 {
        guard isRolling else { roll(now: now); return spentInPeriod }
        guard case .rolling(let w) = spec.period else { return 0 }
        let oldest = (now - w) / bucketMicros
        var sum: Int64 = 0
        for i in buckets.indices where bucketStamps[i] > oldest && bucketStamps[i] <= now / bucketMicros { sum += buckets[i] }
        return sum
    }

    func isExhausted(now: Int64) -> Bool { spent(now: now) + inFlight >= spec.amountNanos }

    /// Seconds until the budget can take calls again: the period's end, or for a rolling window
    /// until enough of the oldest spend has fallen out.
    func secondsUntilOpen(now: Int64) -> Int64 {
        guard isRolling, case .rolling(let w) = spec.period else { return max(1, (end - now + 999_999) / 1_000_000) }
        var total = spent(now: now) + inFlight
        let oldest = (now - w) / bucketMicros
        let live = buckets.indices.filter { bucketStamps[$0] > oldest && bucketStamps[$0] <= now / bucketMicros }.sorted { bucketStamps[$0] < bucketStamps[$1] }
        for i in live {
            total -= buckets[i]
            // Bucket b's spend counts while (now - w) / bucketMicros < b, i.e. until b * bucketMicros + w.
            if total < spec.amountNanos { return max(1, (bucketStamps[i] * bucketMicros + w - now + 999_999) / 1_000_000) }
        }
        return max(1, w / 1_000_000)
    }

    /// When the window that `spent` counts began (for loading it from the store).
    func countedFrom(now: Int64) -> Int64 {
        guard isRolling, case .rolling(let w) = spec.period else { roll(now: now); return start }
        return ((now - w) / bucketMicros + 1) * bucketMicros
    }
}
