/// The digests `plumb serve` has sent, one row per period and target, in the catalog: a restart
/// neither sends a period twice nor forgets which it sent.
///
/// ```swift
/// try catalog.recordDigest(period: "day", firstDay: "2026-11-30", timezone: "UTC", target: "smtp://…", sentAt: now)
/// try catalog.lastDigest(period: "day", target: "smtp://…")   // "2026-11-30"
/// ```
extension Catalog {
    func ensureDigestTable() throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS digests_sent(
              period TEXT NOT NULL, first_day TEXT NOT NULL, timezone TEXT NOT NULL, target TEXT NOT NULL,
              sent_at INTEGER NOT NULL, PRIMARY KEY(period, first_day, target))
            """)
    }

    public func recordDigest(period: String, firstDay: String, timezone: String, target: String, sentAt: Int64) throws {
        try ensureDigestTable()
        try db.run("INSERT OR IGNORE INTO digests_sent(period, first_day, timezone, target, sent_at) VALUES (?, ?, ?, ?, ?)",
                   [.text(period), .text(firstDay), .text(timezone), .text(target), .int(sentAt)])
    }

    /// The first day ("YYYY-MM-DD") of the latest period sent to `target`.
    public func lastDigest(period: String, target: String) throws -> String? {
        try ensureDigestTable()
        return try db.query("SELECT max(first_day) FROM digests_sent WHERE period = ? AND target = ?", [.text(period), .text(target)]) {
            $0.isNull(0) ? nil : $0.text(0)
        }.first ?? nil
    }

    /// Every period sent to `target`, oldest first.
    public func sentDigests(period: String, target: String) throws -> [String] {
        try ensureDigestTable()
        return try db.query("SELECT first_day FROM digests_sent WHERE period = ? AND target = ? ORDER BY first_day",
                            [.text(period), .text(target)]) { $0.text(0) }
    }
}
