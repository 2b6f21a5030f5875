import PlumbCore
import PlumbStore

/// What an alert rule last found, per instance, and the messages owed to its targets: in the
/// catalog, changed together in one transaction, so that a restart (or a kill -9) neither
/// repeats a message nor drops one. A message is marked sent once its target took it; one whose
/// delivery was cut short by a crash is sent again (at least once).
///
/// ```swift
/// let events = try catalog.applyAlert(rule: "down", firing: instances, targets: ["webhook:…"], now: now)
/// for m in try catalog.dueAlertMessages(now: now) { … try catalog.markAlertSent(m.id, at: now) }
/// ```
extension Catalog {
    public struct AlertEventRecord: Sendable, Equatable {
        /// open, change or resolve.
        public var event: String
        public var instance: AlertInstance
        public var previousState: String?
    }

    public struct AlertMessage: Sendable {
        public var id: Int64
        public var rule: String
        public var target: String
        /// The event as JSON (`AlertEvent.json`).
        public var payload: String
        public var attempts: Int64
    }

    public struct AlertStateRow: Sendable {
        public var rule: String, instance: String, state: String, summary: String, openedAt: Int64, updatedAt: Int64
    }

    public struct AlertSendRow: Sendable {
        public var rule: String, target: String, event: String, instance: String, createdAt: Int64
        public var sentAt: Int64?, attempts: Int64, lastError: String?, failed: Bool
    }

    func ensureAlertTables() throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS alert_state(
              rule TEXT NOT NULL, instance TEXT NOT NULL, state TEXT NOT NULL, summary TEXT NOT NULL,
              opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY(rule, instance));
            CREATE TABLE IF NOT EXISTS alert_outbox(
              id INTEGER PRIMARY KEY, rule TEXT NOT NULL, instance TEXT NOT NULL, event TEXT NOT NULL, target TEXT NOT NULL,
              payload TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
              sent_at INTEGER, last_error TEXT, failed INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox(sent_at, failed, next_at);
            """)
    }

    /// Compares what `rule` finds firing now with what it found last, stores the new state and
    /// queues a message per event and target, all in one transaction. Returns the events.
    public func applyAlert(rule: String, kind: String, firing: [AlertInstance], targets: [String], now: Int64) throws -> [AlertEventRecord] {
        try ensureAlertTables()
        return try db.transaction {
            let before = try db.query("SELECT instance, state, summary FROM alert_state WHERE rule = ?", [.text(rule)]) {
                ($0.text(0), $0.text(1), $0.text(2))
            }
            var previous: [String: (state: String, summary: String)] = [:]
            for (i, s, m) in before { previous[i] = (s, m) }
            var events: [AlertEventRecord] = []
            var seen: Set<String> = []
            for f in firing where seen.insert(f.key).inserted {
                if let p = previous[f.key] {
                    if p.state != f.state { events.append(AlertEventRecord(event: "change", instance: f, previousState: p.state)) }
                    try db.run("UPDATE alert_state SET state = ?, summary = ?, updated_at = ? WHERE rule = ? AND instance = ?",
                               [.text(f.state), .text(f.summary), .int(now), .text(rule), .text(f.key)])
                } else {
                    events.append(AlertEventRecord(event: "open", instance: f, previousState: nil))
                    try db.run("INSERT INTO alert_state(rule, instance, state, summary, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                               [.text(rule), .text(f.key), .text(f.state), .text(f.summary), .int(now), .int(now)])
                }
            }
            for (key, p) in previous.sorted(by: { $0.key < $1.key }) where !seen.contains(key) {
                events.append(AlertEventRecord(event: "resolve", instance: AlertInstance(key: key, state: "resolved", summary: "resolved: " + p.summary),
                                               previousState: p.state))
                try db.run("DELETE FROM alert_state WHERE rule = ? AND instance = ?", [.text(rule), .text(key)])
            }
            for e in events {
                let payload = AlertEvent(rule: rule, kind: kind, event: e.event, instance: e.instance, previousState: e.previousState, at: now).json
                for t in targets {
                    try db.run("INSERT INTO alert_outbox(rule, instance, event, target, payload, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               [.text(rule), .text(e.instance.key), .text(e.event), .text(t), .text(payload), .int(now), .int(now)])
                }
            }
            return events
        }
    }

    /// Messages not yet sent whose next attempt is due, oldest first.
    public func dueAlertMessages(now: Int64, limit: Int = 50) throws -> [AlertMessage] {
        try ensureAlertTables()
        return try db.query("""
            SELECT id, rule, target, payload, attempts FROM alert_outbox
            WHERE sent_at IS NULL AND failed = 0 AND next_at <= ? ORDER BY id LIMIT ?
            """, [.int(now), .int(Int64(limit))]) {
            AlertMessage(id: $0.int(0), rule: $0.text(1), target: $0.text(2), payload: $0.text(3), attempts: $0.int(4))
        }
    }

    public func markAlertSent(_ id: Int64, at: Int64) throws {
        try db.run("UPDATE alert_outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?", [.int(at), .int(id)])
    }

    /// A failed attempt: tried again at `retryAt`, or given up (`failed`) when that is nil.
    public func markAlertFailed(_ id: Int64, error: String, retryAt: Int64?) throws {
        try db.run("UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?, next_at = ?, failed = ? WHERE id = ?",
                   [.text(String(error.prefix(500))), .int(retryAt ?? 0), .int(retryAt == nil ? 1 : 0), .int(id)])
    }

    public func alertStates() throws -> [AlertStateRow] {
        try ensureAlertTables()
        return try db.query("SELECT rule, instance, state, summary, opened_at, updated_at FROM alert_state ORDER BY rule, instance") {
            AlertStateRow(rule: $0.text(0), instance: $0.text(1), state: $0.text(2), summary: $0.text(3), openedAt: $0.int(4), updatedAt: $0.int(5))
        }
    }

    /// The newest `limit` messages, newest first.
    public func alertSends(limit: Int = 20) throws -> [AlertSendRow] {
        try ensureAlertTables()
        return try db.query("""
            SELECT rule, target, event, instance, created_at, sent_at, attempts, last_error, failed FROM alert_outbox ORDER BY id DESC LIMIT ?
            """, [.int(Int64(limit))]) {
            AlertSendRow(rule: $0.text(0), target: $0.text(1), event: $0.text(2), instance: $0.text(3), createdAt: $0.int(4),
                         sentAt: $0.optionalInt(5), attempts: $0.int(6), lastError: $0.isNull(7) ? nil : $0.text(7), failed: $0.int(8) != 0)
        }
    }

    /// Forgets messages sent or given up before `before` (the outbox is a log of the last
    /// weeks, not of all time); returns how many went.
    @discardableResult
    public func pruneAlertMessages(before: Int64) throws -> Int64 {
        try ensureAlertTables()
        try db.run("DELETE FROM alert_outbox WHERE (sent_at IS NOT NULL OR failed = 1) AND created_at < ?", [.int(before)])
        return try db.query("SELECT changes()") { $0.int(0) }.first ?? 0
    }

    /// Messages waiting to be sent (for `/_plumb/metrics`).
    public func pendingAlertMessages() throws -> Int64 {
        try ensureAlertTables()
        return try db.query("SELECT count(*) FROM alert_outbox WHERE sent_at IS NULL AND failed = 0") { $0.int(0) }.first ?? 0
    }
}
