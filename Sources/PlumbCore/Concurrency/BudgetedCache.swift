import Foundation

/// Values kept by key up to a budget of bytes, shared between threads: past the budget the least
/// recently used go, down to three quarters of it (one sort per round, not a list per entry).
///
/// ```swift
/// let cache = BudgetedCache<String, [UInt8]>(budget: 64 << 20)
/// cache.keep("seg#3", page, size: page.count)
/// let again = cache.value("seg#3")              // the page, now the most recently used
/// ```
public final class BudgetedCache<Key: Hashable, Value>: @unchecked Sendable {
    public let budget: Int
    private let lock = NSLock()
    private var entries: [Key: (value: Value, size: Int, used: UInt64)] = [:]
    private var clock: UInt64 = 0
    public private(set) var bytes = 0
    public private(set) var hits = 0
    /// Values kept so far (including those dropped since).
    public private(set) var kept = 0

    public init(budget: Int) { self.budget = budget }

    public func value(_ key: Key) -> Value? {
        lock.lock(); defer { lock.unlock() }
        guard let e = entries[key] else { return nil }
        hits += 1
        clock += 1
        entries[key]!.used = clock
        return e.value
    }

    /// Keeps `value`, unless it alone would take more than a quarter of the budget.
    public func keep(_ key: Key, _ value: Value, size: Int) {
        guard size <= budget / 4 else { return }
        lock.lock(); defer { lock.unlock() }
        clock += 1
        kept += 1
        if let old = entries.updateValue((value, size, clock), forKey: key) { bytes -= old.size }
        bytes += size
        if bytes > budget {
            for (k, e) in entries.sorted(by: { $0.value.used < $1.value.used }) where bytes > budget * 3 / 4 {
                entries[k] = nil
                bytes -= e.size
            }
        }
    }

    /// Drops the values whose keys `drop` picks (say, those of a file that is gone).
    public func removeAll(where drop: (Key) -> Bool) {
        lock.lock(); defer { lock.unlock() }
        for (k, e) in entries where drop(k) {
            entries[k] = nil
            bytes -= e.size
        }
    }
}
