import PlumbCore

/// One catalog row: a segment file, its time range and its link in the hash chain.
public struct SegmentRecord: Sendable, Equatable {
    /// `quarantined`: failed its checks when the writer read it; the file is kept in quarantine/.
    public enum State: String, Sendable { case live, replaced, expired, quarantined }

    public var id: Int64
    public var file: String
    public var rows: Int64
    public var bytes: Int64
    public var tsMin: Int64
    public var tsMax: Int64
    public var sha256: String
    public var prevHash: String
    public var chainHash: String
    public var walSeqMax: Int64
    public var createdAt: Int64
    public var state: State
    public var replacedBy: Int64?
    public var level: Int64
}

/// What a writer has just made durable and wants published.
public struct NewSegment: Sendable {
    public var file: String
    public var rows: Int64
    public var bytes: Int64
    public var tsMin: Int64
    public var tsMax: Int64
    public var sha256: String
    public var walSeqMax: Int64
    public var level: Int64
    public var bodyFile: NewBodyFile?
}

public struct NewBodyFile: Sendable {
    public var id: Int64
    public var file: String
    public var bytes: Int64
    public var tsMin: Int64
    public var tsMax: Int64
}

/// The SQLite catalog (WAL mode): which segment and body files are visible, their time ranges,
/// and the SHA-256 chain over every segment ever published. A row is the single point of publish.
///
/// Chain: `chain_hash = SHA-256("plumb-chain-v1|" prev | id | file | sha256 | rows | ts_min | ts_max)`,
/// with 64 zeros before the first row (`schemas/segment-format.md`, "Catalog").
public final class Catalog: @unchecked Sendable {
    public static let genesis = String(repeating: "0", count: 64)
    public let db: SQLiteDatabase
    public let path: String

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        if !readOnly && !FileSystem.exists(path) { try Self.create(path) }
        db = try SQLiteDatabase(path: path, readOnly: readOnly)
        if !readOnly {
            try db.execute("PRAGMA journal_mode=WAL")
            try db.execute("PRAGMA synchronous=FULL")
            try migrate()
        }
    }

    /// A new catalog appears with its tables already in it: built under another name and
    /// renamed into place, so a reader that finds the file (another process, the moment the
    /// first writer starts) never finds it empty.
    private static func create(_ path: String) throws {
        let building = path + ".creating"
        try? FileSystem.remove(building)
        try? FileSystem.remove(building + "-journal")
        do {
            let db = try SQLiteDatabase(path: building)
            try db.execute("PRAGMA synchronous=FULL")
            try db.execute(schema)
        }
        try FileSystem.rename(building, path)
        try FileSystem.syncDirectory(FileSystem.directory(of: path))
    }

    private func migrate() throws {
        try db.execute(Self.schema)
    }

    private static let schema = """
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS segments(
                id INTEGER PRIMARY KEY, file TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL,
                ts_min INTEGER NOT NULL, ts_max INTEGER NOT NULL, sha256 TEXT NOT NULL,
                prev_hash TEXT NOT NULL, chain_hash TEXT NOT NULL, wal_seq_max INTEGER NOT NULL,
                created_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'live', replaced_by INTEGER,
                level INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX IF NOT EXISTS segments_live_time ON segments(state, ts_min, ts_max);
            CREATE TABLE IF NOT EXISTS body_files(
                id INTEGER PRIMARY KEY, file TEXT NOT NULL, bytes INTEGER NOT NULL,
                ts_min INTEGER NOT NULL, ts_max INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'live');
            INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
            INSERT OR IGNORE INTO meta(key, value) VALUES ('published_seq', '0');
            """

    static let columns = "id, file, rows, bytes, ts_min, ts_max, sha256, prev_hash, chain_hash, wal_seq_max, created_at, state, replaced_by, level"

    static func record(_ r: SQLiteDatabase.Row) -> SegmentRecord {
        SegmentRecord(id: r.int(0), file: r.text(1), rows: r.int(2), bytes: r.int(3), tsMin: r.int(4), tsMax: r.int(5),
                      sha256: r.text(6), prevHash: r.text(7), chainHash: r.text(8), walSeqMax: r.int(9),
                      createdAt: r.int(10), state: SegmentRecord.State(rawValue: r.text(11)) ?? .quarantined,   // unknown: never treat as live
                      replacedBy: r.optionalInt(12), level: r.int(13))
    }

    /// Live segments overlapping `[from, to]` (microseconds), oldest first.
    public func liveSegments(from: Int64 = .min, to: Int64 = .max) throws -> [SegmentRecord] {
        try db.query("SELECT \(Self.columns) FROM segments WHERE state = 'live' AND ts_max >= ? AND ts_min <= ? ORDER BY id",
                     [.int(from), .int(to)], row: Self.record)
    }

    public func allSegments() throws -> [SegmentRecord] {
        try db.query("SELECT \(Self.columns) FROM segments ORDER BY id", row: Self.record)
    }

    public func state(ofSegment id: Int64) throws -> SegmentRecord.State? {
        try db.query("SELECT state FROM segments WHERE id = ?", [.int(id)]) { SegmentRecord.State(rawValue: $0.text(0)) }.first ?? nil
    }

    /// Spans with ts_start before this are past retention: readers skip them even before their
    /// segment is rewritten. `Int64.min` when retention is off.
    public func retentionCutoff() throws -> Int64 {
        Int64(try db.query("SELECT value FROM meta WHERE key = 'retention_cutoff'") { $0.text(0) }.first ?? "") ?? .min
    }

    public func setRetentionCutoff(_ cutoff: Int64) throws {
        try db.run("INSERT INTO meta(key, value) VALUES ('retention_cutoff', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   [.text(String(cutoff))])
    }

    public func publishedSeq() throws -> UInt64 {
        UInt64(try db.query("SELECT value FROM meta WHERE key = 'published_seq'") { $0.text(0) }.first ?? "0") ?? 0
    }

    public func nextFileID() throws -> Int64 {
        let s = try db.query("SELECT coalesce(max(id), 0) FROM segments") { $0.int(0) }.first ?? 0
        let b = try db.query("SELECT coalesce(max(id), 0) FROM body_files") { $0.int(0) }.first ?? 0
        return max(s, b) + 1
    }

    public static func chainHash(prev: String, id: Int64, file: String, sha256: String, rows: Int64, tsMin: Int64, tsMax: Int64) -> String {
        SHA256.hex(Array("plumb-chain-v1|\(prev)|\(id)|\(file)|\(sha256)|\(rows)|\(tsMin)|\(tsMax)".utf8))
    }

    /// Inserts a segment row (and its body file row), chained to the last row; raises
    /// `published_seq`; marks `replacing` as replaced by it. One transaction: all or nothing.
    @discardableResult
    public func publish(id: Int64, _ s: NewSegment, replacing: [Int64] = []) throws -> SegmentRecord {
        try db.transaction {
            let prev = try db.query("SELECT chain_hash FROM segments ORDER BY id DESC LIMIT 1") { $0.text(0) }.first ?? Self.genesis
            let chain = Self.chainHash(prev: prev, id: id, file: s.file, sha256: s.sha256, rows: s.rows, tsMin: s.tsMin, tsMax: s.tsMax)
            let now = Timestamp.nowMicros()
            try db.run("INSERT INTO segments(\(Self.columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,'live',NULL,?)", [
                .int(id), .text(s.file), .int(s.rows), .int(s.bytes), .int(s.tsMin), .int(s.tsMax), .text(s.sha256),
                .text(prev), .text(chain), .int(s.walSeqMax), .int(now), .int(s.level)])
            if let b = s.bodyFile {
                try db.run("INSERT INTO body_files(id, file, bytes, ts_min, ts_max, state) VALUES (?,?,?,?,?,'live')",
                           [.int(b.id), .text(b.file), .int(b.bytes), .int(b.tsMin), .int(b.tsMax)])
            }
            for old in replacing {
                try db.run("UPDATE segments SET state = 'replaced', replaced_by = ? WHERE id = ? AND state = 'live'", [.int(id), .int(old)])
            }
            try db.run("UPDATE meta SET value = CAST(max(CAST(value AS INTEGER), ?) AS TEXT) WHERE key = 'published_seq'", [.int(s.walSeqMax)])
            return SegmentRecord(id: id, file: s.file, rows: s.rows, bytes: s.bytes, tsMin: s.tsMin, tsMax: s.tsMax,
                                 sha256: s.sha256, prevHash: prev, chainHash: chain, walSeqMax: s.walSeqMax,
                                 createdAt: now, state: .live, replacedBy: nil, level: s.level)
        }
    }

    public func quarantine(segment id: Int64) throws {
        try db.run("UPDATE segments SET state = 'quarantined' WHERE id = ? AND state = 'live'", [.int(id)])
    }

    public func expire(segments ids: [Int64]) throws {
        try db.transaction {
            for id in ids { try db.run("UPDATE segments SET state = 'expired' WHERE id = ? AND state = 'live'", [.int(id)]) }
        }
    }

    public struct BodyFileRecord: Sendable {
        public var id: Int64, file: String, bytes: Int64, tsMin: Int64, tsMax: Int64, state: String
    }

    public func bodyFiles() throws -> [BodyFileRecord] {
        try db.query("SELECT id, file, bytes, ts_min, ts_max, state FROM body_files ORDER BY id") {
            BodyFileRecord(id: $0.int(0), file: $0.text(1), bytes: $0.int(2), tsMin: $0.int(3), tsMax: $0.int(4), state: $0.text(5))
        }
    }

    public func expire(bodyFiles ids: [Int64]) throws {
        try db.transaction {
            for id in ids { try db.run("UPDATE body_files SET state = 'expired' WHERE id = ?", [.int(id)]) }
        }
    }
}
