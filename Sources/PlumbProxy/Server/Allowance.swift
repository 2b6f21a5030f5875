import Foundation

/// A count with a ceiling, shared across event loops: connections open, queries running or
/// waiting, request-body bytes held. Taking past the ceiling fails and takes nothing.
///
/// ```swift
/// let connections = Allowance(limit: 8192)
/// guard connections.take() else { close() }
/// connections.give()
/// ```
final class Allowance: @unchecked Sendable {
    private let lock = NSLock()
    private var used = 0
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func take(_ n: Int = 1) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard used + n <= limit else { return false }
        used += n
        return true
    }

    /// How much is taken now.
    var taken: Int {
        lock.lock(); defer { lock.unlock() }
        return used
    }

    func give(_ n: Int = 1) {
        guard n > 0 else { return }
        lock.lock(); used -= n; lock.unlock()
    }
}
