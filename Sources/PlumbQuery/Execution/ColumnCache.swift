import Foundation
import PlumbCore

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
    private let store: BudgetedCache<String, Vector>
    public var budget: Int { store.budget }
    public var bytes: Int { store.bytes }
    public var hits: Int { store.hits }
    /// Whole columns decoded and kept.
    public var kept: Int { store.kept }

    public init(budget: Int) { store = BudgetedCache(budget: budget) }

    private let lock = NSLock()
    private var onlyColumns: Set<String>?

    /// Keeps whole columns of these names only (nil: of every name): a dashboard frame names
    /// the columns enough of its panels read (`Frame.sharedColumns`). A column few queries read
    /// is not worth keeping (its row groups' aggregates are kept), and keeping it costs fresh
    /// memory: page faults, the larger part of a first frame's kernel time.
    ///
    /// ```swift
    /// cache.keepOnly(["cost_usd", "ts_start"])
    /// ```
    public func keepOnly(_ names: Set<String>?) { lock.withLock { onlyColumns = names } }

    /// Whether whole columns named `name` are kept.
    func keeps(_ name: String) -> Bool { lock.withLock { onlyColumns?.contains(name) ?? true } }

    func vector(_ key: String) -> Vector? { store.value(key) }

    func keep(_ key: String, _ v: Vector) { store.keep(key, v, size: Self.bytes(v)) }

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
