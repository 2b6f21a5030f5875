import ArgumentParser
import Foundation
import PlumbCore
import PlumbDash
import PlumbQuery
import PlumbStore

struct DashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dash",
        abstract: "Terminal dashboard. --once prints one frame as plain text.",
        discussion: "Dashboards: overview, incidents, spend, providers, tail, and any .toml file in --dashboards (format: dashboards-tui/README.md).")

    @OptionGroup var common: CommonOptions
    @OptionGroup var sourceOption: SourceOption
    @Argument(help: "Dashboard name (default overview).") var dashboard: String = "overview"
    @Flag(help: "Print one frame as text and exit.") var once = false
    @Option(help: "Time range, e.g. 15m, 1h, 24h (default: the dashboard's).") var range: String?
    @Option(name: .customLong("where"), help: "Filter every panel by this WHERE expression.") var filter: String?
    @Option(help: "Frame width in columns for --once (default: the terminal's, else 120).") var width: Int?
    @OptionGroup var dashboards: DashboardsOption
    @Option(help: ArgumentHelp("Draw the frame as of this time (ISO 8601). Env: PLUMB_NOW.", valueName: "TIME")) var now: String?
    @Flag(help: "ASCII instead of block characters.") var ascii = false
    @Option(help: "Seconds between refreshes of the live dashboard (default 2).") var interval: Double = 2

    func run() throws {
        let config = common.loadConfig()
        let dir = common.dataDirectory(config)
        let userDir = dashboards.directory
        let boards: [Dashboard]
        do { boards = try ShippedDashboards.all(userDirectory: userDir) } catch { fail("\(error)") }
        guard let board = boards.first(where: { $0.name == dashboard }) else {
            fail("no dashboard '\(dashboard)' (have: \(boards.map(\.name).joined(separator: ", ")))")
        }
        var engine = QueryEngine(directory: dir)
        sourceOption.apply(to: &engine, config: config)
        do { if let t = try config.string("now", cli: now) { engine.now = try Timestamp.parse(t) } } catch { fail("--now: \(error)") }
        let r = range ?? board.range
        guard PlumbConfig.parseDuration(r).map({ $0 > 0 }) == true else { fail("--range: invalid duration '\(r)' (use e.g. 15m, 1h, 24h)") }
        if let filter {
            do { _ = try engine.bind("SELECT 1 FROM spans WHERE (\(filter))") } catch let e as QueryError {
                fail("--where: \(e.message)")
            } catch { fail("\(error)") }
        }
        guard once else {
            if isatty(1) == 0 || isatty(0) == 0 { fail("plumb dash needs a terminal; use --once to print one frame as text") }
            guard interval >= 0.1, interval <= 3600 else { fail("--interval must be between 0.1 and 3600 seconds") }
            let session = DashSession(boards: boards, board: board.name, engine: engine, range: r, filter: filter,
                                      fixedNow: (try? config.string("now", cli: now)).flatMap { $0 }.map { _ in engine.now })
            do { try DashApp.run(session, interval: interval, forceASCII: ascii) } catch { fail("\(error)") }
            return
        }
        let unicode = !ascii && (ProcessInfo.processInfo.environment["LANG"] ?? "C.UTF-8").uppercased().contains("UTF")
        let frame = Frame(board: board, engine: engine, range: r, filter: filter, width: width ?? Terminal.width() ?? 120, unicode: unicode)
        do { print(try frame.render(), terminator: "") } catch { fail("\(error)") }
    }
}
