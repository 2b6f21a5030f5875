import ArgumentParser
import Foundation
import PlumbCore
import PlumbDash
import PlumbQuery
import PlumbStore

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "A living dashboard at once: simulated providers, plumb serve and traffic (with an incident now and then).",
        discussion: """
            Starts plumb-mock (simulated OpenAI, Anthropic, Gemini and Mistral), plumb serve in front of it on a throwaway \
            data directory, and traffic through it; then opens the dashboard. q quits and removes the directory (unless --dir).
            """)

    @Argument(help: "Dashboard to open (default overview).") var dashboard: String = "overview"
    @Option(help: "Keep the data, config and logs in this directory (default: a new one under /tmp, removed at the end).") var dir: String?
    @Option(help: "Requests per second (default 15).") var rate: Double = 15
    @Option(help: "Seconds from one incident to the next; 0 for none (default 120).") var incidentEvery: Double = 120
    @Option(help: "Seconds an incident lasts (default 45).") var incidentLength: Double = 45
    @Flag(help: "No dashboard: run until Ctrl-C or SIGTERM (look with plumb dash --data DIR/data).") var noDash = false
    @Option(help: "Seconds between dashboard refreshes (default 2).") var interval: Double = 2
    @Flag(help: "ASCII instead of block characters.") var ascii = false

    func run() throws {
        guard rate > 0, rate <= 2000 else { fail("--rate must be between 0 and 2000 requests a second") }
        guard incidentEvery >= 0, incidentLength >= 0 else { fail("--incident-every and --incident-length must not be negative") }
        if !noDash && (isatty(0) == 0 || isatty(1) == 0) {
            fail("plumb demo opens a dashboard and needs a terminal; use --no-dash to run without one")
        }
        let boards: [Dashboard]
        do { boards = try ShippedDashboards.all(userDirectory: nil) } catch { fail("\(error)") }
        guard boards.contains(where: { $0.name == dashboard }) else {
            fail("no dashboard '\(dashboard)' (have: \(boards.map(\.name).joined(separator: ", ")))")
        }
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let mock = (own as NSString).deletingLastPathComponent + "/plumb-mock"
        guard FileManager.default.isExecutableFile(atPath: mock) else {
            fail("plumb demo needs plumb-mock beside plumb (\(mock)); build it with: swift build --product plumb-mock")
        }
        let throwaway = dir == nil
        let root = dir ?? NSTemporaryDirectory() + "plumb-demo-\(getpid())-\(Int(Date().timeIntervalSince1970))"
        var options = Demo.Options(directory: root, plumb: own, mock: mock)
        options.rate = rate; options.incidentEvery = incidentEvery; options.incidentLength = incidentLength
        let demo: Demo
        do { demo = try Demo.start(options) } catch { fail("plumb demo: \(error)") }
        defer {
            demo.stop()
            let sent = demo.traffic.sent
            print("plumb demo: sent \(formatCount(sent.total)) requests (\(formatCount(sent.failed)) failed)"
                  + (throwaway ? "" : "; data kept in \(demo.dataDirectory)"))
            if throwaway { try? FileManager.default.removeItem(atPath: root) }
        }
        if noDash {
            print("plumb demo: plumb serve on \(demo.serve.url), data in \(demo.dataDirectory), about \(rate) requests/s; "
                  + "watch it with: plumb dash --data \(demo.dataDirectory)   (Ctrl-C stops)")
            fflush(nil)
            waitForStopSignal()
            return
        }
        let engine = QueryEngine(directory: DataDirectory(demo.dataDirectory))
        let session = DashSession(boards: boards, board: dashboard, engine: engine, range: nil, filter: nil)
        do { try DashApp.run(session, interval: interval, forceASCII: ascii) } catch { printError("\(error)") }
    }

    /// Blocks until SIGINT or SIGTERM.
    func waitForStopSignal() {
        let stop = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for s in [SIGINT, SIGTERM] {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        stop.wait()
        sources.forEach { $0.cancel() }
    }
}
