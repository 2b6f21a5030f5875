import PlumbCore

/// A Plumb key (virtual key) as the catalog holds it: never the key itself, only its SHA-256
/// and the first characters that let a person tell keys apart.
public struct PlumbKeyRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// Hex SHA-256 of the whole key.
    public var keyHash: String
    /// The key's first characters (`sk-plumb-AbCd`), shown by `plumb keys list`.
    public var prefix: String
    public var createdAt: Int64
    public var revokedAt: Int64?
    /// `200/month`, `50/day`, `10/24h`: the key's budget as `plumb keys create --budget` took it.
    public var budget: String?
    public var requestsPerMinute: Int64?
    public var tokensPerMinute: Int64?
    /// Globs over the model asked for (`gpt-4o*`); empty: any model.
    public var models: [String]
    /// Provider names; empty: any provider.
    public var providers: [String]

    public init(id: Int64 = 0, name: String, keyHash: String, prefix: String, createdAt: Int64, revokedAt: Int64? = nil,
                budget: String? = nil, requestsPerMinute: Int64? = nil, tokensPerMinute: Int64? = nil,
                models: [String] = [], providers: [String] = []) {
        self.id = id; self.name = name; self.keyHash = keyHash; self.prefix = prefix; self.createdAt = createdAt
        self.revokedAt = revokedAt; self.budget = budget; self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute; self.models = models; self.providers = providers
    }
}

/// One audit record: a key or policy change, linked into its own hash chain in the catalog
/// (`chain_hash = SHA-256("plumb-audit-v1|" prev | id | at | action | subject | detail)`, 64
/// zeros before the first), which `plumb verify` walks as it walks the segments' chain.
public struct AuditRecord: Sendable, Equatable {
    public var id: Int64
    public var at: Int64
    public var action: String
    public var subject: String
    public var detail: String
    public var prevHash: String
    public var chainHash: String

    public static func chainHash(prev: String, id: Int64, at: Int64, action: String, subject: String, detail: String) -> String {
        SHA256.hex(Array("plumb-audit-v1|\(prev)|\(id)|\(at)|\(action)|\(subject)|\(detail)".utf8))
    }
}

/// The Plumb keys and the audit chain, in the catalog: `plumb keys` writes them (while
/// `plumb serve` runs, which sees each change on its next keyed call).
///
/// ```swift
/// try catalog.createKey(PlumbKeyRecord(name: "search", keyHash: h, prefix: p, createdAt: now))
/// try catalog.revokeKey(named: "search", at: now)
/// ```
extension Catalog {
    public struct KeyError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    func ensureKeyTables() throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS plumb_keys(
              id INTEGER PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, key_prefix TEXT NOT NULL,
              created_at INTEGER NOT NULL, revoked_at INTEGER, budget TEXT, rpm INTEGER, tpm INTEGER,
              models TEXT NOT NULL DEFAULT '', providers TEXT NOT NULL DEFAULT '');
            CREATE UNIQUE INDEX IF NOT EXISTS plumb_keys_live_name ON plumb_keys(name) WHERE revoked_at IS NULL;
            CREATE TABLE IF NOT EXISTS audit(
              id INTEGER PRIMARY KEY, at INTEGER NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
              detail TEXT NOT NULL, prev_hash TEXT NOT NULL, chain_hash TEXT NOT NULL);
            """)
    }

    private func hasTable(_ name: String) throws -> Bool {
        try !db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) { $0.int(0) }.isEmpty
    }

    private static let keyColumns = "id, name, key_hash, key_prefix, created_at, revoked_at, budget, rpm, tpm, models, providers"

    private static func key(_ r: SQLiteDatabase.Row) -> PlumbKeyRecord {
        PlumbKeyRecord(id: r.int(0), name: r.text(1), keyHash: r.text(2), prefix: r.text(3), createdAt: r.int(4),
                       revokedAt: r.optionalInt(5), budget: r.isNull(6) ? nil : r.text(6), requestsPerMinute: r.optionalInt(7),
                       tokensPerMinute: r.optionalInt(8), models: list(r.text(9)), providers: list(r.text(10)))
    }

    private static func list(_ text: String) -> [String] { text.split(separator: ",").map(String.init) }

    /// Every key, revoked ones included (oldest first); empty when none was ever made.
    public func keys(includeRevoked: Bool = true) throws -> [PlumbKeyRecord] {
        guard try hasTable("plumb_keys") else { return [] }
        let filter = includeRevoked ? "" : " WHERE revoked_at IS NULL"
        return try db.query("SELECT \(Self.keyColumns) FROM plumb_keys\(filter) ORDER BY id", row: Self.key)
    }

    /// Adds a key; a live key of the same name is an error.
    @discardableResult
    public func createKey(_ k: PlumbKeyRecord) throws -> PlumbKeyRecord {
        try ensureKeyTables()
        defer { keysChanged() }
        return try db.transaction {
            guard try db.query("SELECT 1 FROM plumb_keys WHERE name = ? AND revoked_at IS NULL", [.text(k.name)], row: { $0.int(0) }).isEmpty else {
                throw KeyError(description: "a key named '\(k.name)' exists; revoke or rotate it, or choose another name")
            }
            var k = k
            try insert(k)
            k.id = db.lastInsertRowID
            try appendAudit(at: k.createdAt, action: "key.create", subject: k.name, detail: Self.describe(k))
            return k
        }
    }

    /// Revokes the live key named `name`; false when there is none.
    public func revokeKey(named name: String, at: Int64) throws -> Bool {
        try ensureKeyTables()
        defer { keysChanged() }
        return try db.transaction {
            guard let live = try liveKey(named: name) else { return false }
            try db.run("UPDATE plumb_keys SET revoked_at = ? WHERE id = ?", [.int(at), .int(live.id)])
            try appendAudit(at: at, action: "key.revoke", subject: name, detail: "prefix=\(live.prefix)")
            return true
        }
    }

    /// Replaces the live key named `name` by a new secret with the same settings: the old one
    /// stops working at once. Nil when there is no such key.
    public func rotateKey(named name: String, keyHash: String, prefix: String, at: Int64) throws -> PlumbKeyRecord? {
        try ensureKeyTables()
        defer { keysChanged() }
        return try db.transaction {
            guard let old = try liveKey(named: name) else { return nil }
            try db.run("UPDATE plumb_keys SET revoked_at = ? WHERE id = ?", [.int(at), .int(old.id)])
            var k = old
            k.keyHash = keyHash; k.prefix = prefix; k.createdAt = at; k.revokedAt = nil
            try insert(k)
            k.id = db.lastInsertRowID
            try appendAudit(at: at, action: "key.rotate", subject: name, detail: "prefix=\(old.prefix) -> \(prefix)")
            return k
        }
    }

    /// Tells running servers (`KeysGeneration`). Also after a failed change, which costs them
    /// one reload; if the word cannot be written, they still see the change within a second.
    private func keysChanged() { try? KeysGeneration.bump(catalog: path) }

    private func liveKey(named name: String) throws -> PlumbKeyRecord? {
        try db.query("SELECT \(Self.keyColumns) FROM plumb_keys WHERE name = ? AND revoked_at IS NULL", [.text(name)], row: Self.key).first
    }

    private func insert(_ k: PlumbKeyRecord) throws {
        try db.run("""
            INSERT INTO plumb_keys(name, key_hash, key_prefix, created_at, revoked_at, budget, rpm, tpm, models, providers)
            VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)
            """, [.text(k.name), .text(k.keyHash), .text(k.prefix), .int(k.createdAt), k.budget.map { .text($0) } ?? .null,
                  k.requestsPerMinute.map { .int($0) } ?? .null, k.tokensPerMinute.map { .int($0) } ?? .null,
                  .text(k.models.joined(separator: ",")), .text(k.providers.joined(separator: ","))])
    }

    static func describe(_ k: PlumbKeyRecord) -> String {
        var parts = ["prefix=\(k.prefix)"]
        if let b = k.budget { parts.append("budget=\(b)") }
        if let r = k.requestsPerMinute { parts.append("rpm=\(r)") }
        if let t = k.tokensPerMinute { parts.append("tpm=\(t)") }
        if !k.models.isEmpty { parts.append("models=\(k.models.joined(separator: ","))") }
        if !k.providers.isEmpty { parts.append("providers=\(k.providers.joined(separator: ","))") }
        return parts.joined(separator: " ")
    }

    /// Appends to the audit chain; call inside a transaction (the key change and its record
    /// are one commit).
    public func appendAudit(at: Int64, action: String, subject: String, detail: String) throws {
        try ensureKeyTables()
        let last = try db.query("SELECT id, chain_hash FROM audit ORDER BY id DESC LIMIT 1") { ($0.int(0), $0.text(1)) }.first
        let id = (last?.0 ?? 0) + 1, prev = last?.1 ?? Self.genesis
        let hash = AuditRecord.chainHash(prev: prev, id: id, at: at, action: action, subject: subject, detail: detail)
        try db.run("INSERT INTO audit(id, at, action, subject, detail, prev_hash, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [.int(id), .int(at), .text(action), .text(subject), .text(detail), .text(prev), .text(hash)])
    }

    /// The audit chain, oldest first.
    public func auditRecords() throws -> [AuditRecord] {
        guard try hasTable("audit") else { return [] }
        return try db.query("SELECT id, at, action, subject, detail, prev_hash, chain_hash FROM audit ORDER BY id") {
            AuditRecord(id: $0.int(0), at: $0.int(1), action: $0.text(2), subject: $0.text(3), detail: $0.text(4),
                        prevHash: $0.text(5), chainHash: $0.text(6))
        }
    }

    /// Problems in the audit chain (a record changed, removed or inserted), for `plumb verify`.
    public func auditChainProblems() throws -> [String] {
        var prev = Self.genesis, expectedID: Int64 = 1
        var problems: [String] = []
        for r in try auditRecords() {
            if r.id != expectedID { problems.append("audit record \(r.id): expected id \(expectedID) (a record was removed)") }
            if r.prevHash != prev { problems.append("audit record \(r.id): prev_hash does not match the record before it") }
            let h = AuditRecord.chainHash(prev: r.prevHash, id: r.id, at: r.at, action: r.action, subject: r.subject, detail: r.detail)
            if h != r.chainHash { problems.append("audit record \(r.id): chain_hash does not match its contents") }
            prev = r.chainHash
            expectedID = r.id + 1
        }
        return problems
    }
}

extension Catalog {
    /// A value of the catalog's `meta` table (nil when unset).
    public func meta(_ key: String) throws -> String? {
        try db.query("SELECT value FROM meta WHERE key = ?", [.text(key)]) { $0.text(0) }.first
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try db.run("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(key), .text(value)])
    }

    /// Records a change of policy (the budgets and limits a server runs with) when `description`
    /// differs from the last one recorded; true when it did.
    @discardableResult
    public func recordPolicy(_ description: String, at: Int64) throws -> Bool {
        try ensureKeyTables()
        return try db.transaction {
            guard try meta("policy") != description else { return false }
            try appendAudit(at: at, action: "policy.change", subject: "config", detail: description)
            try setMeta("policy", description)
            return true
        }
    }
}
