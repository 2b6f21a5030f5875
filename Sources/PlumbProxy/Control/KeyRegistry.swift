import Foundation
import NIOCore
import PlumbCore
import PlumbStore

/// The live Plumb keys, by hash, as `plumb serve` checks them. `plumb keys` changes them in the
/// catalog from another process and then changes the word in `KeysGeneration`; each lookup
/// reads that word (shared memory, no system call) and reloads the keys when it changed, so a
/// revoked key is refused on its very next call. At most once a second a lookup also asks
/// SQLite whether the catalog changed (`PRAGMA data_version`), for a change that could not
/// write the word. Each event loop keeps its own copy of the keys and reads it without a lock
/// while the word stays the same: a lock shared by the loops was contended on a few percent of
/// calls, and a loop preempted while holding it stalled the other.
///
/// ```swift
/// let keys = KeyRegistry(catalogPath: dir.catalog)
/// keys.lookup("sk-plumb-…")?.name     // "search-team", or nil: unknown or revoked
/// ```
final class KeyRegistry: @unchecked Sendable {
    private let path: String
    private let lock = NSLock()
    private var catalog: Catalog?
    private var versionCheck: SQLiteDatabase.Statement?
    private var version: Int64 = .min
    private var byHash: [String: PlumbKeyRecord] = [:]
    private let generation: KeysGeneration?
    private var seenGeneration: UInt64 = 0
    /// One event loop's copy of the keys, used while the word is the one it was copied at.
    private final class LoopCopy: @unchecked Sendable {   // confined to its loop
        var word: UInt64 = 0
        var checkedAt: UInt64 = 0
        var byHash: [String: PlumbKeyRecord] = [:]
        var filled = false
    }
    private let copies: [ObjectIdentifier: LoopCopy]
    /// When SQLite was last asked (monotonic ns).
    private var checkedAt: UInt64 = 0
    static let backstopNanos: UInt64 = 1_000_000_000
    /// The last reload's failure, if the catalog could not be read (the keys before it stay).
    private(set) var lastError: String?

    init(catalogPath: String, loops: [EventLoop] = []) {
        path = catalogPath
        generation = KeysGeneration(catalog: catalogPath)
        var c: [ObjectIdentifier: LoopCopy] = [:]
        for l in loops { c[ObjectIdentifier(l)] = LoopCopy() }
        copies = c
    }

    /// The live key `key` is, or nil.
    func lookup(_ key: String) -> PlumbKeyRecord? {
        let hash = PlumbKey.hash(key)
        lock.lock(); defer { lock.unlock() }
        refresh()
        return byHash[hash]
    }

    /// The same, from `loop`'s copy: no lock unless the keys changed or SQLite is due a check.
    func lookup(_ key: String, on loop: EventLoop) -> PlumbKeyRecord? {
        guard let copy = copies[ObjectIdentifier(loop)], let generation else { return lookup(key) }
        let hash = PlumbKey.hash(key)
        if copy.filled, generation.value == copy.word, Monotonic.nanos() &- copy.checkedAt < Self.backstopNanos {
            return copy.byHash[hash]
        }
        lock.lock()
        refresh()
        copy.byHash = byHash
        copy.word = seenGeneration
        copy.checkedAt = checkedAt
        copy.filled = catalog != nil
        lock.unlock()
        return copy.byHash[hash]
    }

    /// Every live key (at start, to load their budgets' spend).
    func live() -> [PlumbKeyRecord] {
        lock.lock(); defer { lock.unlock() }
        refresh()
        return byHash.values.sorted { $0.id < $1.id }
    }

    private func refresh() {
        do {
            if catalog == nil {
                let c = try Catalog(path: path, readOnly: true)
                versionCheck = try c.db.prepare("PRAGMA data_version")
                catalog = c
            }
            guard let catalog, let versionCheck else { return }
            let now = Monotonic.nanos()
            let word = generation?.value ?? 0
            if generation != nil, word == seenGeneration, now &- checkedAt < Self.backstopNanos { return }
            seenGeneration = word
            checkedAt = now
            let v = try versionCheck.firstInt() ?? 0
            guard v != version else { return }
            var map: [String: PlumbKeyRecord] = [:]
            for k in try catalog.keys(includeRevoked: false) { map[k.keyHash] = k }
            byHash = map
            version = v
            lastError = nil
        } catch {
            // A catalog that cannot be read keeps the keys last read: a transient lock must not
            // refuse every keyed call. A revoked key is refused once the catalog reads again.
            lastError = "\(error)"
            versionCheck = nil
            catalog = nil
        }
    }
}
