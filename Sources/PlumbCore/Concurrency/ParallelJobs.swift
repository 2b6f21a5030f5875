import Foundation

/// Independent jobs run side by side on a few threads: a digest's queries, a dashboard frame's
/// panels. Each query's scan keeps the cores busy only part of the time (planning, merging and
/// finishing run on one thread), so two at once finish sooner. Jobs start in the order given
/// (longest first is best); the first error is rethrown once all have stopped.
///
/// ```swift
/// let jobs = ParallelJobs()
/// let total = jobs.add { try rows("SELECT count(*) FROM spans") }
/// try jobs.run(lanes: 2)
/// print(total.value)
/// ```
public final class ParallelJobs: @unchecked Sendable {
    /// One job's result, set when `run` returns.
    public final class Result<T>: @unchecked Sendable {
        fileprivate var stored: T?
        public var value: T { stored! }
    }

    private var jobs: [@Sendable () throws -> Void] = []
    private let lock = NSLock()
    private var next = 0
    private var failure: Error?

    public init() {}

    public func add<T>(_ job: @escaping @Sendable () throws -> T) -> Result<T> {
        let r = Result<T>()
        jobs.append { r.stored = try job() }
        return r
    }

    public func run(lanes: Int) throws {
        DispatchQueue.concurrentPerform(iterations: max(1, min(lanes, jobs.count))) { _ in
            while let job = take() {
                do { try job() } catch {
                    lock.lock(); if failure == nil { failure = error }; next = jobs.count; lock.unlock()
                }
            }
        }
        if let failure { throw failure }
    }

    private func take() -> (@Sendable () throws -> Void)? {
        lock.lock(); defer { lock.unlock() }
        guard next < jobs.count else { return nil }
        next += 1
        return jobs[next - 1]
    }
}
