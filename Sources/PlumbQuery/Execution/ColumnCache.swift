import Foundation

/// Decoded columns of row groups, kept between the queries of one job that read the same
/// columns again and again (a digest's dozen queries all read `ts_start` and `cost_usd` of the
/// same week; a dashboard's panels all read the newest row groups). Keyed by the segment's
/// SHA-256, so a column is never taken from another file's content. The least recently used
/// are dropped past `budget` bytes.
///
/// ```swift
/// var engine = QueryEngine(directory: dir)
/// engine.columnCache = ColumnCache(budget: 256 << 20)
/// ```
public final class ColumnCache: @unchecked Sendable {
    public let budget: Int
    private let lock = NSLock()
    private var entries: [String: (vector: Vector, bytes: Int, used: UInt64)] = [:]
    private var clock: UInt64 = 0
    public private(set) var bytes = 0
    public private(set) var hits = 0
    /// Whole columns decoded and kept.
    public private(set) var kept = 0

    public init(budget: Int) { self.budget = budget }

    func vector(_ key: String) -> Vector? {
        lock.lock(); defer { lock.unlock() }
        guard let e = entries[key] else { return nil }
        hits += 1
        clock += 1
        entries[key]!.used = clock
        return e.vector
    }

    func keep(_ key: String, _ v: Vector) {
        let size = Self.bytes(v)
        guard size <= budget / 4 else { return }
        lock.lock(); defer { lock.unlock() }
        clock += 1
        kept += 1
        if let old = entries.updateValue((v, size, clock), forKey: key) { bytes -= old.bytes }
        bytes += size
        if bytes > budget {
            // Drop the oldest until a quarter of the budget is free (sorting once per round).
            for (k, e) in entries.sorted(by: { $0.value.used < $1.value.used }) where bytes > budget * 3 / 4 {
                entries[k] = nil
                bytes -= e.bytes
            }
        }
    }

    /// About what a vector holds in memory.
    static func bytes(_ v: Vector) -> Int {
        let n = v.count
        let data: Int
        switch v.data {
        case .bool: data = n
        case .int, .double, .decimal: data = 8 * n
        case .interval: data = 16 * n
        case .string(let s): data = s.reduce(16 * n) { $0 + $1.utf8.count }
        case .dict(_, let d): data = 4 * n + d.reduce(16 * d.count) { $0 + $1.utf8.count }
        case .hex(let h): data = 8 * n * h.words.count
        case .map: data = 96 * n
        case .constant: data = 16
        }
        return data + (v.validity == nil ? 0 : n) + 64
    }
}
