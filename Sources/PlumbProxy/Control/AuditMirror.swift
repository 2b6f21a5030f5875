import PlumbCore
import PlumbStore

/// Copies the catalog's audit records (key and policy changes) into the store as spans of
/// operation `admin`, so that `plumb query` lists them beside the traffic they governed:
///
/// ```sql
/// SELECT ts_start, properties['audit_action'], properties['plumb_key'], properties['audit_detail']
/// FROM spans WHERE operation = 'admin' ORDER BY ts_start
/// ```
///
/// The catalog's chain stays the record (`plumb verify` checks it); a span's id comes from its
/// record's chain hash, so a copy made twice (a crash between the append and the cursor) has the
/// same span id (`count(DISTINCT span_id)` counts it once). `plumb serve` runs it at start and
/// every second.
final class AuditMirror: @unchecked Sendable {   // used by one thread at a time
    let store: SpanStore
    let catalogPath: String
    private var catalog: Catalog?

    init(store: SpanStore, catalogPath: String) { self.store = store; self.catalogPath = catalogPath }

    /// Appends the records not yet copied; returns how many.
    @discardableResult
    func runOnce() throws -> Int {
        if catalog == nil { catalog = try Catalog(path: catalogPath) }
        guard let catalog else { return 0 }
        guard let newest = try catalog.db.query("SELECT max(id) FROM audit", row: { $0.optionalInt(0) }).first ?? nil,
              newest > (Int64(try catalog.meta("audit_spans_through") ?? "0") ?? 0) else { return 0 }
        let through = Int64(try catalog.meta("audit_spans_through") ?? "0") ?? 0
        let records = try catalog.auditRecords().filter { $0.id > through }
        guard let last = records.last else { return 0 }
        try store.appendWaiting(records.map(Self.span))
        try catalog.setMeta("audit_spans_through", String(last.id))
        return records.count
    }

    static func span(_ r: AuditRecord) -> Span {
        let hash = Array(r.chainHash.utf8)
        func word(_ i: Int) -> UInt64 { UInt64(String(decoding: hash[i..<i + 16], as: UTF8.self), radix: 16) ?? 0 }
        var properties = ["audit_action": r.action, "audit_detail": String(r.detail.prefix(1000)), "audit_id": String(r.id),
                          "audit_chain_hash": r.chainHash]
        if r.action.hasPrefix("key.") { properties[CallIdentity.keyProperty] = r.subject }
        return Span(spanID: SpanID.make(millis: UInt64(max(0, r.at / 1000)), random: word(0), word(16)), tsStart: r.at, tsEnd: r.at,
                    provider: "plumb", operation: "admin", endpoint: r.action, method: "ADMIN", status: 200,
                    properties: properties)
    }
}
