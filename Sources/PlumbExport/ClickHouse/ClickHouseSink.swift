import Foundation
import PlumbCore

/// Inserts spans into ClickHouse, the fleet store: one RowBinary insert per batch (and one for
/// its bodies, when `include_bodies`), each with an `insert_deduplication_token` naming the
/// batch, so that a batch sent again after a lost answer or a restart is dropped by the server;
/// the table also deduplicates by span id (schemas/clickhouse.sql).
///
/// ```swift
/// let sink = ClickHouseSink(settings: s, instance: "gateway-1", installation: id) { print($0) }
/// try sink.prepare()          // checks (or creates) the tables
/// sink.send(batch)            // .accepted
/// ```
public final class ClickHouseSink: SpanSink, @unchecked Sendable {
    public let name = "clickhouse"
    public let settings: ClickHouseExportSettings
    public let instance: String
    public let installation: String
    public var includeBodies: Bool { settings.includeBodies }
    public var maxBatchSpans: Int { settings.maxBatchSpans }
    let client: ClickHouseClient
    let report: @Sendable (String) -> Void

    public init(settings: ClickHouseExportSettings, instance: String, installation: String, report: @escaping @Sendable (String) -> Void) {
        self.settings = settings; self.instance = instance; self.installation = installation; self.report = report
        client = ClickHouseClient(settings.connection, maxResponseBytes: 1 << 20)
    }

    var database: String { settings.connection.database }

    /// Creates what is missing (with `create`), then checks that every column Plumb writes is
    /// there with its type: a table someone changed is an error naming the columns, never
    /// altered.
    public func prepare() throws {
        var tables = [(settings.table, ClickHouseSchema.spanColumns)]
        if settings.includeBodies { tables.append((settings.bodiesTable, ClickHouseSchema.bodyColumns)) }
        var missing = try tables.filter { try columns(of: $0.0).isEmpty }.map(\.0)
        if !missing.isEmpty && settings.create {
            for sql in ClickHouseSchema.statements(database: database, table: settings.table, bodiesTable: settings.bodiesTable,
                                                   ttlDays: settings.ttlDays, bodyTTLDays: settings.bodyTTLDays) {
                try client.query(sql)
            }
            report("exporter clickhouse: created \(missing.map { "\(database).\($0)" }.joined(separator: " and ")) (schemas/clickhouse.sql)")
            missing = try tables.filter { try columns(of: $0.0).isEmpty }.map(\.0)
        }
        if let t = missing.first {
            throw ClickHouseError(code: nil, message: "table \(database).\(t) does not exist; create it with schemas/clickhouse.sql or set create = true in [export.clickhouse]")
        }
        for (table, expected) in tables {
            let actual = try columns(of: table)
            var problems: [String] = []
            for c in expected {
                guard let t = actual[c.name] else { problems.append("\(c.name) is missing (Plumb writes \(c.type))"); continue }
                if t != c.type { problems.append("\(c.name) is \(t), Plumb writes \(c.type)") }
            }
            if !problems.isEmpty {
                throw ClickHouseError(code: nil, message: "table \(database).\(table) does not match schemas/clickhouse.sql: "
                                      + problems.joined(separator: "; ") + " (Plumb never alters a table: migrate it or export to another table)")
            }
        }
    }

    /// Column name → type of `table`; empty when the table does not exist.
    func columns(of table: String) throws -> [String: String] {
        let out = try client.query("""
            SELECT name, type FROM system.columns WHERE database = '\(database)' AND table = '\(table)' FORMAT TabSeparated
            """)
        var m: [String: String] = [:]
        for line in String(decoding: out, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: "\t", maxSplits: 1)
            if f.count == 2 { m[String(f[0])] = String(f[1]).replacingOccurrences(of: "\\'", with: "'") }
        }
        return m
    }

    public func send(_ batch: ExportBatch) -> SendOutcome {
        do {
            if settings.includeBodies {
                let bodies = ClickHouseSchema.bodyRows(batch.spans, instance: instance)
                if bodies.rows > 0 {
                    try insert(settings.bodiesTable, ClickHouseSchema.bodyColumns, bodies.bytes, token: batch.token + "-bodies")
                }
            }
            try insert(settings.table, ClickHouseSchema.spanColumns, ClickHouseSchema.spanRows(batch.spans, instance: instance),
                       token: batch.token)
            return .accepted
        } catch let e as ClickHouseError {
            return Self.outcome(e)
        } catch {
            return .retry(after: nil, reason: "\(error)")
        }
    }

    func insert(_ table: String, _ columns: [ClickHouseSchema.Column], _ rows: [UInt8], token: String) throws {
        let names = columns.map(\.name).joined(separator: ", ")
        var options = [("insert_deduplication_token", token)]
        if settings.asyncInsert {
            // Acknowledged once written (wait_for_async_insert), deduplicated as synchronous inserts are.
            options += [("async_insert", "1"), ("wait_for_async_insert", "1"), ("async_insert_deduplicate", "1")]
        }
        try client.query("INSERT INTO \(database).\(table) (\(names)) FORMAT RowBinary", data: rows, gzip: settings.gzip,
                         settings: options)
    }

    /// Rows ClickHouse cannot take as they are (a parse or type error) are a rejection: sending
    /// them again will not help. Everything else (down, overloaded, wrong password, a table
    /// dropped) is retried, so no span is skipped for an operator's mistake.
    static let rejectedCodes: Set<Int> = [6, 27, 33, 38, 41, 53, 69, 70, 72, 117, 131]

    static func outcome(_ e: ClickHouseError) -> SendOutcome {
        if let code = e.code, rejectedCodes.contains(code) { return .rejected(reason: e.message) }
        if e.code == nil, let status = e.httpStatus, (400..<500).contains(status), status != 408, status != 429 {
            return .rejected(reason: e.message)
        }
        return .retry(after: nil, reason: e.message)
    }
}
