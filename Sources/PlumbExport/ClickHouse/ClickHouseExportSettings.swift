import Foundation
import PlumbCore

/// The `[export.clickhouse]` table (schemas/config.md). The password comes from
/// `PLUMB_CLICKHOUSE_PASSWORD` only, never from the file.
///
/// ```toml
/// [export.clickhouse]
/// url = "http://clickhouse:8123"
/// database = "plumb"
/// table = "spans"              # bodies go to span_bodies (bodies_table)
/// user = "plumb"
/// create = true                # create database and tables when missing
/// ttl = "90d"                  # rows older than this are dropped by ClickHouse (bodies: body_ttl, 14d)
/// include_bodies = false
/// ```
public struct ClickHouseExportSettings: Sendable {
    public var connection: ClickHouseConnection
    public var table = "spans"
    public var bodiesTable = "span_bodies"
    public var create = true
    public var includeBodies = false
    public var ttlDays = 90
    public var bodyTTLDays = 14
    /// The `instance` column: which Plumb wrote a row (default: the host name).
    public var instance: String?
    public var maxBatchSpans = 10_000
    public var gzip = true
    /// ClickHouse's asynchronous inserts (it batches the inserts of many proxies into fewer
    /// parts; Plumb still waits for each to be written, and deduplication by token holds).
    public var asyncInsert = false

    public static let keys: Set<String> = ["url", "database", "table", "bodies_table", "user", "create", "include_bodies", "ttl",
                                           "body_ttl", "instance", "max_batch_spans", "compression", "timeout", "async_insert"]

    public init(connection: ClickHouseConnection) { self.connection = connection }

    public init(table t: [String: JSONValue], environment: [String: String]) throws {
        func fail(_ m: String) -> PlumbConfig.Error { PlumbConfig.Error("export.clickhouse: \(m)") }
        for k in t.keys where !Self.keys.contains(k) {
            if k == "password" { throw fail("the password comes from the environment variable PLUMB_CLICKHOUSE_PASSWORD, not the file") }
            throw fail("unknown key '\(k)' (known: \(Self.keys.sorted().joined(separator: ", ")))")
        }
        func string(_ k: String) throws -> String? {
            guard let v = t[k] else { return nil }
            guard case .string(let s) = v else { throw fail("\(k) must be a string") }
            return s
        }
        func bool(_ k: String) throws -> Bool? {
            guard let v = t[k] else { return nil }
            guard case .bool(let b) = v else { throw fail("\(k) must be true or false") }
            return b
        }
        func days(_ k: String) throws -> Int? {
            guard let s = try string(k) else { return nil }
            guard let micros = PlumbConfig.parseDuration(s), micros >= 86_400_000_000, micros % 86_400_000_000 == 0 else {
                throw fail("\(k) must be whole days, e.g. \"90d\" (got '\(s)')")
            }
            return Int(micros / 86_400_000_000)
        }
        guard let url = try environment["PLUMB_EXPORT_CLICKHOUSE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) ?? string("url") else {
            throw fail("needs url (ClickHouse's HTTP interface, e.g. \"http://clickhouse:8123\")")
        }
        var timeout = 30.0
        if let v = t["timeout"] {
            guard let s = v.doubleValue, s > 0, s <= 600 else { throw fail("timeout must be seconds, more than 0 and at most 600") }
            timeout = s
        }
        do {
            connection = try ClickHouseConnection(url: url, database: try string("database") ?? "plumb",
                                                  user: try string("user") ?? "default",
                                                  password: environment["PLUMB_CLICKHOUSE_PASSWORD"] ?? "", timeout: timeout)
            table = try string("table") ?? table
            bodiesTable = try string("bodies_table") ?? (table == "spans" ? "span_bodies" : table + "_bodies")
            try ClickHouseConnection.checkIdentifier(table, what: "table")
            try ClickHouseConnection.checkIdentifier(bodiesTable, what: "bodies_table")
        } catch let e as ClickHouseError { throw fail(e.message) }
        create = try bool("create") ?? true
        includeBodies = try bool("include_bodies") ?? false
        ttlDays = try days("ttl") ?? ttlDays
        bodyTTLDays = try days("body_ttl") ?? bodyTTLDays
        instance = try string("instance")
        asyncInsert = try bool("async_insert") ?? false
        if let n = t["max_batch_spans"] {
            guard case .int(let i) = n, i >= 1, i <= 1_000_000 else { throw fail("max_batch_spans must be 1 to 1000000") }
            maxBatchSpans = Int(i)
        }
        if let c = try string("compression") {
            switch c.lowercased() {
            case "gzip": gzip = true
            case "none": gzip = false
            default: throw fail("compression must be gzip or none (got '\(c)')")
            }
        }
    }
}
