import PlumbCore

/// The fleet store as a query source (`--source clickhouse`, `[query] source`): the dialect is
/// translated (`ClickHouseTranslator`), run over ClickHouse's HTTP interface, and the answer
/// read back into batches of the bound types, so that every command over it prints what it
/// prints over the local store.
///
/// ```swift
/// var engine = QueryEngine(directory: dir)
/// engine.clickhouse = ClickHouseSource(connection: conn, table: "spans", bodiesTable: "span_bodies")
/// try engine.collect("SELECT provider, count(*) FROM spans GROUP BY 1")
/// ```
public final class ClickHouseSource: @unchecked Sendable {
    public let client: ClickHouseClient
    /// `database.table` of the spans and of their bodies.
    public let table: String
    public let bodiesTable: String

    public init(connection: ClickHouseConnection, table: String = "spans", bodiesTable: String = "span_bodies") throws {
        try ClickHouseConnection.checkIdentifier(table, what: "table")
        try ClickHouseConnection.checkIdentifier(bodiesTable, what: "bodies_table")
        client = ClickHouseClient(connection)
        self.table = connection.database + "." + table
        self.bodiesTable = connection.database + "." + bodiesTable
    }

    /// The ClickHouse SQL for a bound query.
    public func translate(_ q: BoundQuery) throws -> String {
        var t = ClickHouseTranslator(query: q, table: table, bodiesTable: bodiesTable)
        return try t.sql()
    }

    static let readSettings: [(String, String)] = [
        // R80: 64-bit integers and inf/nan as strings, so that nothing is lost in JSON.
        ("output_format_json_quote_64bit_integers", "1"), ("output_format_json_quote_denormals", "1"),
        ("output_format_json_quote_decimals", "1"),
        // The whole answer before the status: an error midway is an error, never a short result.
        ("wait_end_of_query", "1"),
    ]

    /// Runs a bound query; the rows in batches of `batchRows`, typed as the binder typed them.
    func run(_ q: BoundQuery, batchRows: Int = 4096) throws -> [Batch] {
        let sql = try translate(q) + " FORMAT JSONCompact"
        let body: [UInt8]
        do { body = try client.query(sql, settings: Self.readSettings) } catch let e as ClickHouseError {
            throw QueryError("over ClickHouse: \(e.message)")
        }
        guard case .object(let o) = try JSONParser.parse(body), case .array(let data)? = o["data"] else {
            throw QueryError("over ClickHouse: the answer is not JSONCompact (\(body.count) bytes)")
        }
        if case .string(let e)? = o["exception"] { throw QueryError("over ClickHouse: \(e)") }
        let types = q.projections.map(\.type)
        var batches: [Batch] = []
        var start = 0
        while start < data.count || (start == 0 && batches.isEmpty) {
            let end = min(data.count, start + batchRows)
            var columns: [[Value]] = Array(repeating: [], count: types.count)
            for r in start..<end {
                guard case .array(let row) = data[r], row.count == types.count else {
                    throw QueryError("over ClickHouse: row \(r) has the wrong number of columns")
                }
                for c in types.indices { columns[c].append(try Self.value(row[c], types[c])) }
            }
            batches.append(Batch(columns: types.indices.map { Vector.from(columns[$0], type: types[$0]) }, count: end - start))
            start = end
            if data.isEmpty { break }
        }
        return batches
    }

    /// One JSONCompact cell as a value of `type`.
    static func value(_ v: JSONValue, _ type: SQLType) throws -> Value {
        if case .null = v { return .null }
        switch type {
        case .bigint:
            switch v {
            case .int(let i): return .int(i)
            case .string(let s): if let i = Int64(s) { return .int(i) }
            case .bool(let b): return .int(b ? 1 : 0)
            default: break
            }
        case .double:
            switch v {
            case .int(let i): return .double(Double(i))
            case .double(let d): return .double(d)
            case .string(let s):
                switch s.lowercased() {
                case "inf", "+inf": return .double(.infinity)
                case "-inf": return .double(-.infinity)
                case "nan", "+nan", "-nan": return .double(.nan)
                default: if let d = Double(s) { return .double(d) }
                }
            default: break
            }
        case .boolean:
            switch v {
            case .bool(let b): return .bool(b)
            case .int(let i): return .bool(i != 0)
            case .string(let s): return .bool(s == "true" || s == "1")
            default: break
            }
        case .varchar:
            if case .string(let s) = v { return .string(s) }
            if case .int(let i) = v { return .string(String(i)) }
            if case .double(let d) = v { return .string(String(d)) }
            if case .bool(let b) = v { return .string(b ? "true" : "false") }
        case .timestamp:
            if case .string(let s) = v { return .timestamp(try Timestamp.parse(s)) }
        case .interval:
            if case .string(let s) = v, let us = Int64(s) { return .interval(Interval(micros: us)) }
            if case .int(let us) = v { return .interval(Interval(micros: us)) }
        case .map:
            if case .object(let o) = v {
                var m: [String: String] = [:]
                for (k, x) in o { if case .string(let s) = x { m[k] = s } }
                return .map(m)
            }
        case .null: return .null
        }
        throw QueryError("over ClickHouse: cannot read \(v) as \(type)")
    }
}

extension ClickHouseSource {
    /// `QueryEngine.run` over ClickHouse: EXPLAIN prints the translated SQL and ClickHouse's own
    /// plan with the index use.
    func run(_ q: BoundQuery, begin: (QueryEngine.Header) throws -> Void, emit: (Batch) throws -> Void) throws -> ScanStats {
        if q.explain {
            let sql = try translate(q)
            var lines = ["source: ClickHouse \(client.connection.url), \(table) (FINAL: each span once)", "sql: \(sql)"]
            if q.hasFrom, let plan = try? client.query("EXPLAIN indexes = 1 " + sql + " FORMAT TabSeparatedRaw") {
                lines += String(decoding: plan, as: UTF8.self).split(separator: "\n").map { "  " + $0 }
            }
            try begin(QueryEngine.Header(names: ["plan"], types: [.varchar], isPlan: true))
            try emit(Batch(columns: [Vector.from(lines.map { .string($0) }, type: .varchar)], count: lines.count))
            return ScanStats()
        }
        try begin(QueryEngine.Header(names: q.names, types: q.projections.map(\.type)))
        for b in try run(q) where b.count > 0 { try emit(b) }
        return ScanStats()
    }

    /// The property keys of spans with ts_start in [from, to).
    func propertyKeys(from: Int64, to: Int64) throws -> [String] {
        let sql = """
            SELECT DISTINCT arrayJoin(mapKeys(properties)) AS k FROM \(table) FINAL
            WHERE ts_start >= \(ClickHouseTranslator.timestampLiteral(from)) AND ts_start < \(ClickHouseTranslator.timestampLiteral(to))
            ORDER BY k FORMAT JSONCompact
            """
        guard case .object(let o) = try JSONParser.parse(try client.query(sql, settings: Self.readSettings)),
              case .array(let rows)? = o["data"] else { return [] }
        return rows.compactMap { if case .array(let r) = $0, case .string(let k)? = r.first { return k }; return nil }
    }
}
