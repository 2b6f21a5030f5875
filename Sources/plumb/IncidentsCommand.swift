import ArgumentParser
import PlumbCore
import PlumbQuery
import PlumbStore

struct IncidentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "List provider and model incidents: outages, error spikes, latency far above baseline.",
        discussion: "Thresholds come from [incidents] in the config (schemas/config.md). Each incident's query column lists its spans: plumb query \"$(query)\".")

    @OptionGroup var common: CommonOptions
    @OptionGroup var sourceOption: SourceOption
    @Option(help: "How far back (default 24h): e.g. 90m, 24h, 7d.") var since: String = "24h"
    @Option(help: "table, csv, json or jsonl (default table). Env: PLUMB_FORMAT; config key: format.") var format: String?
    @Option(help: ArgumentHelp("Judge as of this time (ISO 8601) instead of now. Env: PLUMB_NOW.", valueName: "TIME"))
    var now: String?

    func run() throws {
        let config = common.loadConfig()
        let dir = common.dataDirectory(config)
        guard let span = PlumbConfig.parseDuration(since), span > 0 else { fail("--since: invalid duration '\(since)' (use e.g. 90m, 24h, 7d)") }
        var engine = QueryEngine(directory: dir)
        sourceOption.apply(to: &engine, config: config)
        let fmt: ResultFormat
        let settings: IncidentSettings
        do {
            if let t = try config.string("now", cli: now) { engine.now = try Timestamp.parse(t) }
            let name = try config.string("format", cli: format) ?? "table"
            guard let f = ResultFormat(rawValue: name) else { fail("unknown format '\(name)' (use table, csv, json or jsonl)") }
            fmt = f
            settings = try IncidentSettings(config: config)
        } catch { fail("\(error)") }
        let incidents: [Incident]
        do {
            incidents = try IncidentDetector(engine: engine, settings: settings).detect(since: engine.now - span, until: engine.now)
        } catch { fail("\(error)") }
        let out = StandardOutput()
        IncidentReport.write(incidents, to: fmt.writer(width: Terminal.width()) { out.write($0) })
        out.flush()
    }
}
