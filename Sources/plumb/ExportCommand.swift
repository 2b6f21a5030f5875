import ArgumentParser
import Foundation
import PlumbCore
import PlumbExport
import PlumbStore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Backfill an exporter: send the stored spans of a time range to OTLP or ClickHouse ([export.*] in the config).",
        discussion: """
            plumb serve exports every span stored while an exporter is configured; this sends older ones. \
            ClickHouse keeps each span once (by span id), so running it twice adds nothing there; an OTLP \
            receiver gets spans sent twice twice. Exporters' cursors are not touched.
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: ArgumentHelp("Spans from this time: a duration back from now (24h, 7d) or an ISO 8601 time.", valueName: "TIME"))
    var since: String
    @Option(help: ArgumentHelp("Spans up to this time (default: now).", valueName: "TIME")) var until: String?
    @Option(help: "otlp or clickhouse (default: every configured exporter).") var to: String?

    func run() throws {
        let config = common.loadConfig()
        let dir = common.dataDirectory(config)
        let now = Timestamp.nowMicros()
        func time(_ s: String, _ flag: String) -> Int64 {
            if let d = PlumbConfig.parseDuration(s), d > 0 { return now - d }
            do { return try Timestamp.parse(s) } catch { fail("\(flag): '\(s)' is neither a duration (24h, 7d) nor an ISO 8601 time") }
        }
        let from = time(since, "--since")
        let until = self.until.map { time($0, "--until") } ?? now
        let sinks: [SpanSink]
        do {
            let exportConfig = try ExportConfig(config: config)
            if exportConfig.isEmpty { fail("no exporter is configured: add [export.otlp] or [export.clickhouse] to the config (schemas/config.md)") }
            let registry = try ProviderRegistry(overrides: Self.providerTables(config), defaultProvider: try config.string("default_provider") ?? "openai")
            let installation = try StoreReader(directory: dir).catalog.existingInstallationID() ?? "unknown"
            let all = try Exporters.sinks(exportConfig, installation: installation, registry: registry, version: VersionText.plumb) { printError("plumb export: \($0)") }
            if let to {
                guard ExportConfig.kinds.contains(to) else { fail("--to must be otlp or clickhouse (got '\(to)')") }
                guard let s = all.first(where: { $0.name == to }) else { fail("--to \(to): [export.\(to)] is not in the config") }
                sinks = [s]
            } else {
                sinks = all
            }
        } catch { fail("\(error)") }
        for sink in sinks {
            do {
                let done = try Backfill(directory: dir, sink: sink, from: from, to: until).run { printError("plumb export: \($0)") }
                print("\(sink.name): \(done.spans) spans sent in \(done.batches) batches" + (done.skippedSpans > 0 ? "; \(done.skippedSpans) spans skipped (rejected)" : ""))
            } catch { fail("\(error)") }
        }
    }

    static func providerTables(_ config: PlumbConfig) throws -> [String: JSONValue] {
        guard let p = config.file["providers"] else { return [:] }
        guard case .object(let o) = p else { throw PlumbConfig.Error("config key 'providers' must be a table of [providers.NAME] tables") }
        return o
    }
}
