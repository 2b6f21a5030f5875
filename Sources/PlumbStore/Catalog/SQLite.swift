#if canImport(Glibc)
import Glibc
#endif
import CSQLite

/// A thin wrapper over the system libsqlite3: one connection, prepared statements, typed errors.
///
/// ```swift
/// let db = try SQLiteDatabase(path: "catalog.sqlite")
/// try db.execute("CREATE TABLE IF NOT EXISTS t(x INTEGER)")
/// let n = try db.query("SELECT count(*) FROM t") { $0.int(0) }.first
/// ```
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

public enum SQLiteValue: Sendable {
    case null, int(Int64), double(Double), text(String)
}

public final class SQLiteDatabase: @unchecked Sendable {
    private var db: OpaquePointer?
    public let path: String

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        // SQLite creates a new database 0644 less the umask, and its -wal and -shm files with the
        // database's mode: a umask of 077 while it opens makes all three owner-only. (Every other
        // file Plumb creates has its mode set explicitly, so the brief umask cannot loosen one.)
        let umaskBefore = readOnly ? nil : umask(0o077)
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        if let umaskBefore { umask(umaskBefore) }
        guard rc == SQLITE_OK else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw SQLiteError(description: "\(path): \(msg)")
        }
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit { sqlite3_close(db) }

    fileprivate func error(_ what: String) -> SQLiteError {
        SQLiteError(description: "\(path): \(what): \(String(cString: sqlite3_errmsg(db)))")
    }

    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(db, sql, nil, nil, &err) == SQLITE_OK else {
            let msg = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            throw SQLiteError(description: "\(path): \(msg)")
        }
    }

    /// Runs a statement with bound parameters; returns each row mapped by `row`.
    @discardableResult
    public func query<T>(_ sql: String, _ params: [SQLiteValue] = [], row: (Row) throws -> T) throws -> [T] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else { throw error("prepare") }
        defer { sqlite3_finalize(stmt) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, p) in params.enumerated() {
            let idx = Int32(i + 1)
            switch p {
            case .null: sqlite3_bind_null(stmt, idx)
            case .int(let v): sqlite3_bind_int64(stmt, idx, v)
            case .double(let v): sqlite3_bind_double(stmt, idx, v)
            case .text(let v): sqlite3_bind_text(stmt, idx, v, -1, transient)
            }
        }
        var out: [T] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error("step") }
            out.append(try row(Row(stmt: stmt)))
        }
        return out
    }

    public func run(_ sql: String, _ params: [SQLiteValue] = []) throws {
        try query(sql, params) { _ in () }
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }

    /// A statement prepared once and run many times (a hot check such as `PRAGMA data_version`:
    /// preparing costs more than running it). Use it on one thread at a time, while the
    /// database is open.
    public final class Statement: @unchecked Sendable {
        private let stmt: OpaquePointer?
        private let owner: SQLiteDatabase

        init(_ stmt: OpaquePointer?, owner: SQLiteDatabase) { self.stmt = stmt; self.owner = owner }
        deinit { sqlite3_finalize(stmt) }

        /// Runs it and returns the first column of its first row (nil: no row).
        public func firstInt() throws -> Int64? {
            sqlite3_reset(stmt)
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return nil }
            guard rc == SQLITE_ROW else { throw owner.error("step") }
            return sqlite3_column_int64(stmt, 0)
        }
    }

    public func prepare(_ sql: String) throws -> Statement {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else { throw error("prepare") }
        return Statement(stmt, owner: self)
    }

    /// Runs `body` in an IMMEDIATE transaction; rolls back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let v = try body()
            try execute("COMMIT")
            return v
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in a read transaction: every query in it sees one snapshot of the database.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN DEFERRED")
        defer { try? execute("COMMIT") }
        return try body()
    }

    public struct Row {
        let stmt: OpaquePointer?
        public func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
        public func double(_ i: Int32) -> Double { sqlite3_column_double(stmt, i) }
        public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
        public func text(_ i: Int32) -> String {
            guard let p = sqlite3_column_text(stmt, i) else { return "" }
            return String(cString: p)
        }
        public func optionalInt(_ i: Int32) -> Int64? { isNull(i) ? nil : int(i) }
    }
}
