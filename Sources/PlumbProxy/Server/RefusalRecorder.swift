import Foundation
import PlumbCore

/// A token bucket: up to `perSecond` refusals a second are stored as spans, with bursts of as
/// many; the rest are only counted.
///
/// ```swift
/// let r = RefusalRecorder(perSecond: 50)
/// if r.admit() { store.append(span) }
/// ```
final class RefusalRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private let perSecond: Double
    private var tokens: Double
    private var last = Monotonic.nanos()

    init(perSecond: Int) {
        self.perSecond = Double(perSecond)
        tokens = Double(perSecond)
    }

    func admit() -> Bool {
        lock.lock(); defer { lock.unlock() }
        let now = Monotonic.nanos()
        tokens = min(perSecond, tokens + Double(now &- last) / 1e9 * perSecond)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
