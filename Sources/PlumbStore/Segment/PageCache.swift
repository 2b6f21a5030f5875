import CPlumbSupport
import Foundation
import PlumbCore

/// Checked page bytes kept between queries in a long-running process (`plumb serve` answering
/// `/_plumb/query`, `plumb dash`, the digest scheduler), as a database's buffer pool keeps blocks:
/// a page read again is neither read from its file nor checked again. Its CRC32C was checked
/// when it was kept, and a segment file never changes once published. Off until a process turns
/// it on; a one-shot `plumb query` reads each page once and keeps nothing. `plumb verify` always
/// reads the file.
///
/// ```swift
/// PageCache.shared.enable(budget: PageCache.defaultBudget)   // at start of a long-running process
/// ```
public final class PageCache: @unchecked Sendable {
    public static let shared = PageCache()

    struct Key: Hashable {
        /// The reader's identity: its pages are dropped when it goes (`forget`), so a later
        /// reader at the same address never sees them.
        let reader: ObjectIdentifier
        let offset: Int
    }

    private let lock = NSLock()
    private var store: BudgetedCache<Key, [UInt8]>?

    /// An eighth of the machine's memory, at most 256 MiB: the columns the shipped dashboards and
    /// the benchmark queries read over 10M spans fit with room to spare.
    public static var defaultBudget: Int { min(256 << 20, Int(ProcessInfo.processInfo.physicalMemory / 8)) }
    /// `plumb serve`'s: its queries are the admin endpoint's and digests', and the whole server
    /// stays within about 100 MB (the kernel's page cache keeps the files warm anyway).
    public static let serverBudget = 16 << 20

    /// Keeps pages from now on, up to `budget` bytes (0 turns it off and drops what is kept).
    public func enable(budget: Int) {
        lock.withLock { store = budget > 0 ? BudgetedCache(budget: budget) : nil }
    }

    /// Bytes kept now (0 when off).
    public var bytes: Int { lock.withLock { store?.bytes ?? 0 } }

    func page(_ key: Key) -> [UInt8]? {
        guard plumb_page_cache_bypass() == 0 else { return nil }
        return lock.withLock { store }?.value(key)
    }

    func keep(_ key: Key, _ bytes: [UInt8]) {
        guard plumb_page_cache_bypass() == 0 else { return }
        lock.withLock { store }?.keep(key, bytes, size: bytes.count + 64)
    }

    /// Runs `body` with this thread's segment reads neither taking nor keeping pages: for a
    /// background reader of each segment once (`RollupWriter`), which would only push out the
    /// pages queries read again.
    ///
    /// ```swift
    /// try PageCache.bypassing { try writeRollups() }
    /// ```
    public static func bypassing<T>(_ body: () throws -> T) rethrows -> T {
        let was = plumb_page_cache_bypass()
        plumb_set_page_cache_bypass(1)
        defer { plumb_set_page_cache_bypass(was) }
        return try body()
    }

    /// Drops a reader's pages (its file is closed).
    func forget(reader: ObjectIdentifier) {
        lock.withLock { store }?.removeAll { $0.reader == reader }
    }
}
