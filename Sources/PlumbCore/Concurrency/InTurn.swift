import Foundation

/// Lets jobs that run side by side do one step each in the order of their numbers: job k's step
/// waits for job k-1's. A job that fails gives up its turn and every later step throws, so no
/// job waits for a turn that will never come.
///
/// ```swift
/// let turns = InTurn()
/// // job k, on any thread:
/// let pages = encode(group[k])                    // side by side
/// try turns.step(k) { try file.append(pages) }    // in order
/// ```
public final class InTurn: @unchecked Sendable {
    private let cond = NSCondition()
    private var next = 0
    private var failure: Error?

    public init() {}

    public struct Abandoned: Error, CustomStringConvertible {
        public let cause: Error
        public var description: String { "an earlier step failed: \(cause)" }
    }

    /// Runs `body` once steps 0..<k have run; rethrows its error after giving up the turn.
    public func step<T>(_ k: Int, _ body: () throws -> T) throws -> T {
        cond.lock()
        while next != k && failure == nil { cond.wait() }
        if let failure { cond.unlock(); throw Abandoned(cause: failure) }
        cond.unlock()
        do {
            let value = try body()
            cond.lock(); next += 1; cond.broadcast(); cond.unlock()
            return value
        } catch {
            abandon(error)
            throw error
        }
    }

    /// Job failed before its step: the steps after it cannot run.
    public func abandon(_ error: Error) {
        cond.lock()
        if failure == nil { failure = error }
        cond.broadcast()
        cond.unlock()
    }
}
