import ArgumentParser
import Foundation
import PlumbCore
import PlumbQuery
import PlumbStore

struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print spans as they land, one line each, coloured by status.",
        discussion: "Example: plumb tail --where \"status >= 500 OR latency_ms > 10000\"")

    @OptionGroup var common: CommonOptions
    @OptionGroup var sourceOption: SourceOption
    @Option(name: .customLong("where"), help: "Only spans matching this WHERE expression of the query dialect.") var filter: String?
    @Option(help: "Also show spans that ended this long ago (default 0: only new ones), e.g. 5m.") var since: String = "0"
    @Option(help: "Seconds between polls (default 0.5).") var interval: Double = 0.5

    func run() throws {
        let config = common.loadConfig()
        let dir = common.dataDirectory(config)
        guard let back = PlumbConfig.parseDuration(since) else { fail("--since: invalid duration '\(since)' (use e.g. 30s, 5m, 1h)") }
        guard interval >= 0.05, interval <= 60 else { fail("--interval must be between 0.05 and 60 seconds") }
        var engine = QueryEngine(directory: dir)
        sourceOption.apply(to: &engine, config: config)
        var tail: SpanTail
        do { tail = try SpanTail(engine: engine, filter: filter, from: Timestamp.nowMicros() - back) } catch let e as QueryError {
            printError("plumb: --where: " + e.render(filter ?? ""))
            throw ExitCode(1)
        } catch { fail("\(error)") }
        let color = isatty(1) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) != false
        let out = StandardOutput()
        while true {
            do {
                for line in try tail.poll() { out.write(line.text(color: color) + "\n") }
                out.flush()
            } catch { fail("\(error)") }
            Thread.sleep(forTimeInterval: interval)
        }
    }
}
