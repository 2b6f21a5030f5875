import Foundation
import PlumbCore
import PlumbStore

/// Minute rollups: for each live segment, its row groups' `MinutePart`s in one file,
/// `rollups/<segment SHA-256>.minutes`, which `plumb serve` and `plumb import` write
/// (`RollupWriter`) and the incident detector reads instead of the row groups. A cold
/// `plumb dash` or `plumb incidents` over a day then reads counts and p95s instead of decoding
/// and selecting over every span. Only an accelerator: a missing, older or damaged file means
/// the row groups are read, as they would be without it.
///
/// ```swift
/// var engine = QueryEngine(directory: dir)           // engine.minuteRollups is on by default
/// let incidents = try IncidentDetector(engine: engine).detect(since: dayAgo, until: now)
/// ```
public final class MinuteRollups: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var reread = 0, read = 0

    private let files: RollupFiles

    public init(directory: DataDirectory) {
        path = directory.rollups
        files = RollupFiles(path: path, suffix: Self.suffix, kind: Self.kind)
    }

    /// "PLMINUTE", version 1: bump it when a part's meaning changes (what counts as failed,
    /// how a p95 is taken), so files written before are not used.
    static let kind = RollupFile.Kind(magic: Array("PLMINUTE".utf8), version: 1)
    static let suffix = ".minutes"
    static func file(_ dir: String, hash: String) -> String { dir + "/" + hash + suffix }

    /// Row groups read although their rollup had them: a cell of theirs with only its p95
    /// kept was also held by another part (spans that landed late).
    public var rereads: Int { lock.withLock { reread } }
    func noteRereads(_ n: Int) { lock.withLock { reread += n } }
    /// Row groups' parts read from rollups so far.
    public var partsRead: Int { lock.withLock { read } }

    /// The part of row group `key` (`<segment hash>#<row group>`), when a usable rollup has it.
    func part(_ key: String) -> MinutePart? {
        guard let hash = key.split(separator: "#", maxSplits: 1).first, let group = UInt64(key[key.index(after: hash.endIndex)...]),
              let file = open(hash: String(hash)), let bytes = try? file.entry(group),
              let part = try? MinutePart(decoding: bytes) else { return nil }
        lock.withLock { read += 1 }
        return part
    }

    func open(hash: String) -> RollupFile? { files.open(hash: hash) }

    static func encode(hash: String, parts: [Int: MinutePart], keepLatencies: (Int64) -> Bool = { _ in false }) -> [UInt8] {
        RollupFile.encode(kind: kind, hash: hash, entries: parts.sorted { $0.key < $1.key }.map {
            (UInt64($0.key), $0.value.encoded(keepLatencies: keepLatencies))
        })
    }

    /// Every part of a rollup file (checking each): for the writer, which trusts a file it did
    /// not write only once it has read it whole, and for tests.
    static func decodeAll(_ name: String, hash: String) throws -> [Int: MinutePart] {
        let file = try RollupFile.open(name, kind: kind, hash: hash)
        var parts: [Int: MinutePart] = [:]
        for group in file.index.keys { parts[Int(group)] = try MinutePart(decoding: try file.entry(group)!) }
        return parts
    }
}
