import Foundation
import PlumbCore
import PlumbStore

/// The live Plumb keys, by hash, as `plumb serve` checks them. `plumb keys` changes them in the
/// catalog from another process and then changes the word in `KeysGeneration`; each lookup
/// reads that word (shared memory, no system call) and reloads the keys when it changed, so a
/// revoked key is refused on its very next call. At most once a second a lookup also asks
/// SQLite whether the catalog changed (`PRAGMA data_version`), for a change that could not
/// write the word.
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
    private var generation: KeysGeneration?
    private var seenGeneration: UInt64 = 0
    /// When SQLite was last asked (monotonic ns).
    private var checkedAt: UInt64 = 0
    static let backstopNanos: UInt64 = 1_000_000_000
    /// The last reload's failure, if the catalog could not be read (the keys before it stay).
    private(set) var lastError: String?

    init(catalogPath: String) { path = catalogPath }

    /// The live key `key` is, or nil.
    func lookup(_ key: String) -> PlumbKeyRecord? {
        let hash = PlumbKey.hash(key)
        lock.lock(); defer { lock.unlock() }
        refresh()
        return byHash[hash]
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
                generation = KeysGeneration(catalog: path)
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
