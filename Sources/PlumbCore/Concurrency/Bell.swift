import Foundation

/// Wakes one sleeping thread without waking every thread that shares a lock with it: a ring
/// before the wait is kept, so a wake-up is never lost. The store's publisher and maintainer
/// sleep on their own bells; on the store's shared condition every group commit woke both.
///
/// ```swift
/// let bell = Bell()
/// bell.ring()                                   // from any thread
/// bell.wait(until: Date().addingTimeInterval(1)) // returns at once: the ring was kept
/// ```
public final class Bell: @unchecked Sendable {
    private let condition = NSCondition()
    private var rung = false

    public init() {}

    public func ring() {
        condition.lock()
        rung = true
        condition.signal()
        condition.unlock()
    }

    /// Returns once rung (taking the ring) or at the deadline.
    public func wait(until deadline: Date? = nil) {
        condition.lock()
        while !rung {
            if let deadline {
                if !condition.wait(until: deadline) { break }
            } else {
                condition.wait()
            }
        }
        rung = false
        condition.unlock()
    }
}
