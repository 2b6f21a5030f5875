import ArgumentParser
import PlumbCore
import PlumbExport
import PlumbQuery

/// `--source local|clickhouse` (env `PLUMB_SOURCE`, config `[query] source`): where query, dash,
/// incidents, digest and tail read spans. ClickHouse is reached with `[export.clickhouse]`'s
/// url, database, user and tables, and `PLUMB_CLICKHOUSE_PASSWORD`.
struct SourceOption: ParsableArguments {
    @Option(help: "local (the data directory) or clickhouse (the fleet store of [export.clickhouse]). Env: PLUMB_SOURCE; config: [query] source.")
    var source: String?

    /// The engine with its source set; a wrong source or missing connection is one clear error.
    func apply(to engine: inout QueryEngine, config: PlumbConfig) {
        do {
            var fromFile: String? = nil
            if case .object(let q)? = config.file["query"] {
                for k in q.keys where k != "source" { fail("unknown key 'query.\(k)' (known: source)") }
                if case .string(let s)? = q["source"] { fromFile = s } else if q["source"] != nil { fail("query.source must be \"local\" or \"clickhouse\"") }
            } else if config.file["query"] != nil {
                fail("config key 'query' must be a table ([query])")
            }
            let chosen = source ?? config.environment["PLUMB_SOURCE"].flatMap { $0.isEmpty ? nil : $0 } ?? fromFile ?? "local"
            switch chosen {
            case "local": return
            case "clickhouse":
                guard case .object(let exports)? = config.file["export"], case .object(let t)? = exports["clickhouse"] else {
                    fail("--source clickhouse needs [export.clickhouse] in the config (url, database, user; password from PLUMB_CLICKHOUSE_PASSWORD)")
                }
                let s = try ClickHouseExportSettings(table: t, environment: config.environment)
                engine.clickhouse = try ClickHouseSource(connection: s.connection, table: s.table, bodiesTable: s.bodiesTable)
            default:
                fail("--source must be local or clickhouse (got '\(chosen)')")
            }
        } catch { fail("\(error)") }
    }
}
