import Foundation

/// A thread that runs `body` now and then every `every` seconds until `stop()`; `stop` wakes
/// it at once rather than after its wait.
///
/// ```swift
/// let t = PeriodicThread(name: "plumb-digest", every: 30) { scheduler.runOnce(now: Timestamp.nowMicros()) }
/// t.start(); defer { t.stop() }
/// ```
public final class PeriodicThread: @unchecked Sendable {
    private let name: String
    private let every: @Sendable () -> Double
    private let body: @Sendable () -> Void
    private let condition = NSCondition()
    private var stopping = false

    public init(name: String, every: @escaping @Sendable () -> Double, body: @escaping @Sendable () -> Void) {
        self.name = name; self.every = every; self.body = body
    }

    public func start() {
        let t = Thread { [self] in
            while true {
                body()
                condition.lock()
                if !stopping { _ = condition.wait(until: Date().addingTimeInterval(every())) }
                let done = stopping
                condition.unlock()
                if done { return }
            }
        }
        t.name = name
        t.start()
    }

    public func stop() {
        condition.lock(); stopping = true; condition.broadcast(); condition.unlock()
    }
}
