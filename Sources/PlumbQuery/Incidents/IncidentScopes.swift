import Foundation

/// The (provider, model) pairs seen by a scan, numbered as the scan threads meet them (each
/// thread asks once per dictionary entry pair of a batch, so the lock is rarely taken).
///
/// ```swift
/// let scopes = IncidentScopes()
/// let s = scopes.number("openai", "gpt-4o")      // 0
/// ```
final class IncidentScopes: @unchecked Sendable {
    private let lock = NSLock()
    private var numbers: [String: Int32] = [:]
    private var pairs: [(provider: String, model: String)] = []

    func number(_ provider: String, _ model: String) -> Int32 {
        let key = provider + "\u{0}" + model
        lock.lock(); defer { lock.unlock() }
        if let n = numbers[key] { return n }
        pairs.append((provider, model))
        numbers[key] = Int32(pairs.count - 1)
        return Int32(pairs.count - 1)
    }

    var all: [(provider: String, model: String)] {
        lock.lock(); defer { lock.unlock() }
        return pairs
    }
}
