import Foundation
import PlumbCore
import PlumbStore

/// Partial rollups: for each live segment, the aggregate state of each of its row groups for
/// each query `plumb serve` was told of (the shipped and the user's dashboards' panels over
/// their default ranges), in `rollups/<segment SHA-256>.partials`. A live dashboard's
/// `PartialAggregateCache` takes a row group's state from there when it has none, under the
/// very key it would keep it by (query text, bound plan, segment, row group and the filter
/// terms its zone maps leave): a cold first frame merges states instead of reading every span.
/// Only an accelerator: a missing, older or damaged entry means the row group is read.
///
/// ```swift
/// var engine = QueryEngine(directory: dir)
/// engine.cache = PartialAggregateCache()             // engine.partialRollups is on by default
/// _ = try engine.collect("SELECT provider, sum(cost_usd) FROM spans WHERE ts_start >= now() - INTERVAL '1 day' GROUP BY 1")
/// ```
public final class PartialRollups: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var read = 0

    private let files: RollupFiles

    public init(directory: DataDirectory) {
        path = directory.rollups
        files = RollupFiles(path: path, suffix: Self.suffix, kind: Self.kind)
    }

    /// "PLPARTIA", version 1: bump it when a state's layout or an aggregate's meaning changes.
    static let kind = RollupFile.Kind(magic: Array("PLPARTIA".utf8), version: 1)
    static let suffix = ".partials"
    static func file(_ dir: String, hash: String) -> String { dir + "/" + hash + suffix }
    /// Entry 0 lists the queries the file was written for (NUL between them).
    static let queriesEntry: UInt64 = 0

    /// Row groups' states read from rollups so far.
    public var statesRead: Int { lock.withLock { read } }

    /// The state of `plan` kept under `query` (`QueryExecutor.partialKey`) for row group
    /// `key` (`StoreScan.reuseKey`), when a usable rollup has it.
    func state(_ query: String, _ key: String, plan: AggregatePlan) -> AggregateState? {
        guard let hash = key.split(separator: "#", maxSplits: 1).first, let file = open(hash: String(hash)),
              let bytes = try? file.entry(Self.entryKey(query, key)) else { return nil }
        // The entry starts with its full key: a 64-bit key collision must not give a wrong answer.
        var r = ByteReader(bytes)
        guard let stored = try? r.string(), stored == query + "\u{0}" + key,
              let state = try? AggregateState(plan: plan, decoding: Array(bytes[r.pos...])) else { return nil }
        lock.withLock { read += 1 }
        return state
    }

    func open(hash: String) -> RollupFile? { files.open(hash: hash) }

    static func entryKey(_ query: String, _ key: String) -> UInt64 {
        max(1, RollupFile.key(query + "\u{0}" + key))
    }

    /// An entry: its full key, then the state.
    static func entry(_ query: String, _ key: String, _ state: [UInt8]) -> (key: UInt64, bytes: [UInt8]) {
        var w = ByteWriter(capacity: state.count + query.utf8.count + key.utf8.count + 8)
        w.string(query + "\u{0}" + key)
        w.append(state)
        return (entryKey(query, key), w.bytes)
    }

    /// The queries a file was written for (nil: not a usable file).
    static func queries(_ name: String, hash: String) -> [String]? {
        guard let file = try? RollupFile.open(name, kind: kind, hash: hash), let bytes = try? file.entry(queriesEntry),
              let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return text.isEmpty ? [] : text.components(separatedBy: "\u{0}")
    }
}
