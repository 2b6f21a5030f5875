import ArgumentParser
import Foundation
import PlumbAlerts
import PlumbCore
import PlumbDash
import PlumbDigest
import PlumbExport
import PlumbProxy
import PlumbQuery
import PlumbStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the logging proxy: point an SDK's base URL at it and every call becomes a span.",
        discussion: """
            /<provider>/<path> forwards to that provider; /v1/... to the default provider \
            (OPENAI_BASE_URL=http://127.0.0.1:8787/v1). Plumb's own endpoints: /_plumb/health, \
            /_plumb/metrics, /_plumb/spans/<id>. Stops cleanly on Ctrl-C or SIGTERM.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var dashboards: DashboardsOption
    @Option(help: "Address to listen on (default 127.0.0.1:8787; port 0 picks a free one). Env: PLUMB_LISTEN.") var listen: String?

    func run() async throws {
        let config = common.loadConfig()
        let dir = common.dataDirectory(config)
        let settings: ProxySettings
        do { settings = try ProxySettings(config: config, listen: listen, prices: PriceCatalog.builtIn) } catch { fail("\(error)") }
        let alertRules: [AlertRule]
        do { alertRules = try AlertSettings(config: config).rules } catch { fail("\(error)") }
        let store: SpanStore
        var options = common.storeOptions(config)
        // A server keeps small blocks and few of them: a burst's are given back (issue 24).
        options.blockBytes = 4 << 20
        options.blockPoolLimit = 2
        options.cutBytes = 16 << 20
        options.releaseMemoryAfterMaintenance = true
        do { store = try SpanStore(directory: dir, options: options) } catch { fail("\(error)") }
        for note in store.recoveryNotes { printError("plumb: recovery: \(note)") }
        if let warning = store.permissionWarning { printError("plumb: warning: \(warning)") }
        PageCache.shared.enable(budget: PageCache.serverBudget)           // for /_plumb/query and digests
        // Scheduled digests ([digest] with a time): sent from the catalog's record of what went out.
        var scheduler: DigestScheduler? = nil
        do {
            let d = try DigestSettings(config: config)
            if let time = d.time {
                let s = DigestScheduler(directory: dir, settings: d, schedule: try DigestSchedule(kind: d.kind, time: time, timezone: d.timezone)) {
                    printError("plumb serve: \($0)")
                }
                s.prices = settings.prices
                s.priceKeys = PriceKey.byProvider(settings.registry)
                s.start()
                scheduler = s
            }
        } catch { try? store.close(); fail("\(error)") }
        defer { scheduler?.stop() }
        // Rollups beside the segments: the incident detector's minutes and the dashboards' panels'
        // row group states, so that a cold dashboard need not read every span of its range.
        let boards = ShippedDashboards.rollupQueries(userDirectory: dashboards.directory)
        if let problem = boards.problem { printError("plumb serve: \(problem); rollups are kept for the shipped dashboards only") }
        let rollups = RollupWriter(directory: dir, queries: boards.queries)
        rollups.start { printError("plumb serve: \($0)") }
        defer { rollups.stop() }
        // Exporters ([export.otlp], [export.clickhouse]): each on its own thread, reading the
        // store from its cursor in the catalog; the proxy never waits on them.
        let exporters: [Exporter]
        do {
            exporters = try Exporters.make(ExportConfig(config: config), directory: dir, registry: settings.registry,
                                           version: VersionText.plumb) { printError("plumb serve: \($0)") }
        } catch { try? store.close(); fail("\(error)") }
        for e in exporters {
            e.storeState = { let s = store.stats; return (s.unpublished, s.newestTs) }
            e.start()
        }
        defer {
            for e in exporters { e.requestStop() }
            for e in exporters { e.stop() }
        }
        let server: ProxyServer
        do { server = try ProxyServer(settings: settings, store: store, exporters: exporters) } catch { fail("\(error)") }
        for note in server.notes { printError("plumb serve: \(note)") }
        // Alert rules ([[alerts]]): evaluated on their own thread; state and outbox in the catalog.
        let alerts = AlertService(directory: dir, rules: alertRules, budgets: { server.budgetStatuses() }) { printError("plumb serve: \($0)") }
        server.attach(alerts)
        alerts.start()
        defer { alerts.stop() }
        do {
            try await server.run { port in
                let host = settings.listen.host.contains(":") ? "[\(settings.listen.host)]" : settings.listen.host
                print("plumb serve: listening on http://\(host):\(port) (data: \(dir.path); default provider: \(settings.registry.defaultProvider.name))")
                fflush(nil)
            }
        } catch {
            try? store.close()
            fail("\(error)")
        }
        do { try store.close() } catch { fail("closing the store: \(error)") }
    }
}
