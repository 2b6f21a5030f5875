import ArgumentParser
import Foundation
import PlumbCore
import PlumbQuery
import PlumbStore

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a SQL query over the spans.",
        discussion: """
            The dialect is a subset of DuckDB's SELECT over one table, spans (schemas/span.schema.json). \
            Prefix a query with EXPLAIN to see its plan and the segments and row groups it skips.
            Example: plumb query "SELECT model, sum(cost_usd) FROM spans WHERE ts_start > now() - INTERVAL '1 day' GROUP BY 1 ORDER BY 2 DESC"
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var sourceOption: SourceOption
    @Option(help: "table, csv, json or jsonl (default table). Env: PLUMB_FORMAT; config key: format.") var format: String?
    @Option(help: ArgumentHelp("Evaluate now() as this time (ISO 8601), for reproducible reports. Env: PLUMB_NOW.", valueName: "TIME"))
    var now: String?
    @Argument(help: "The SQL query.") var sql: String

    func run() throws {
        let config = common.loadConfig()
        let dir = common.dataDirectory(config)
        let fmt: ResultFormat
        do {
            let name = try config.string("format", cli: format) ?? "table"
            guard let f = ResultFormat(rawValue: name) else {
                fail("unknown format '\(name)' (use table, csv, json or jsonl)")
            }
            fmt = f
        } catch { fail("\(error)") }
        var engine = QueryEngine(directory: dir)
        sourceOption.apply(to: &engine, config: config)
        do {
            if let t = try config.string("now", cli: now) { engine.now = try Timestamp.parse(t) }
        } catch { fail("--now: \(error)") }
        let out = StandardOutput()
        let writer = fmt.writer(width: Terminal.width()) { out.write($0) }
        do {
            _ = try engine.run(sql, begin: writer.begin, emit: writer.write)
            writer.end()
            out.flush()
        } catch let e as QueryError {
            out.flush()
            printError("plumb: query error: " + e.render(sql))
            throw ExitCode(1)
        } catch {
            out.flush()
            fail("\(error)")
        }
    }
}
