import ArgumentParser
import Foundation
import PlumbCore
import PlumbDash
import PlumbQuery
import PlumbStore

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import spans from a JSON Lines file (span schema v1, one object a line).",
        discussion: "Bad lines are reported with their number and reason and skipped; every good line is stored. Exits 1 if any line was skipped.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var dashboards: DashboardsOption
    @Argument(help: "The .jsonl file, or - for standard input (e.g. zcat spans.jsonl.gz | plumb import -).") var file: String

    @Option(help: ArgumentHelp("Every N spans, wait until they are durable and print 'durable through line L (N spans)' on stdout, so an interrupted import can resume after line L.", valueName: "N"))
    var checkpointEvery: Int?

    @Option(help: ArgumentHelp("Threads decoding lines (default: one per core). Any number stores the same spans in the same order.", valueName: "N"))
    var threads: Int?

    func run() throws {
        let config = common.loadConfig()
        let dir = common.dataDirectory(config)
        guard file == "-" || FileManager.default.isReadableFile(atPath: file) else { fail("cannot read \(file)") }
        let store: SpanStore
        if let n = checkpointEvery, n <= 0 { fail("--checkpoint-every must be a positive number of spans") }
        if let n = threads, !(1...256).contains(n) { fail("--threads must be between 1 and 256") }
        do { store = try SpanStore(directory: dir, options: common.storeOptions(config)) } catch { fail("\(error)") }
        for note in store.recoveryNotes { printError("plumb: recovery: \(note)") }
        if let warning = store.permissionWarning { printError("plumb: warning: \(warning)") }
        let name = file == "-" ? "<stdin>" : file
        let started = Date()
        var bar = ProgressBar(label: "importing")
        var shown = 0
        let summary: SpanImporter.Summary
        do {
            var importer = SpanImporter(store: store)
            if let threads { importer.threads = threads }
            summary = try importer.run(path: file, progress: { p in
                bar.update(done: p.bytesRead, total: p.totalBytes, detail: "\(formatCount(p.imported)) spans")
            }, checkpointEvery: checkpointEvery, onCheckpoint: { line, spans in
                print("durable through line \(line) (\(spans) spans)")
                fflush(nil)
            }, onError: { line, reason in
                shown += 1
                if shown <= 1000 { printError("\(name):\(line): \(reason)") }
                if shown == 1001 { printError("\(name): more bad lines; not listing them all") }
            })
            try store.close()
        } catch {
            bar.finish()
            fail("import stopped: \(error)")
        }
        bar.finish()
        let secs = Date().timeIntervalSince(started)
        let rate = secs > 0 ? Int(Double(summary.imported) / secs) : summary.imported
        print("imported \(formatCount(summary.imported)) spans from \(formatCount(summary.lines)) lines"
              + " (\(formatCount(summary.skipped)) skipped) in \(String(format: "%.2f", secs)) s, \(formatCount(rate)) spans/s")
        // The rollups `plumb serve` keeps up to date, so that the first `plumb dash` or
        // `plumb incidents` need not read every span of its range.
        let boards = ShippedDashboards.rollupQueries(userDirectory: dashboards.directory)
        if let problem = boards.problem { printError("plumb import: \(problem); rollups are kept for the shipped dashboards only") }
        do { try RollupWriter(directory: dir, queries: boards.queries).update() } catch { printError("plumb import: rollups not written: \(error)") }
        if summary.skipped > 0 { throw ExitCode(1) }
    }
}
