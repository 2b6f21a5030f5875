import ArgumentParser
import PlumbCore
import PlumbStore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every segment's checksums and the catalog's hash chain.",
        discussion: "Exits 0 when everything checks out, 1 naming each segment or body file that is wrong.")

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("A chain head printed by an earlier verify ('<id>:<hash>'); fails if the catalog no longer holds it (rows removed or rewritten). Record heads outside the data directory.", valueName: "HEAD"))
    var expectHead: String?

    func run() throws {
        let dir = common.dataDirectory(common.loadConfig())
        let report: StoreVerifier.Report
        do { report = try StoreVerifier.verify(dir, expectedHead: expectHead) } catch { fail("\(error)") }
        for f in report.failures { print("FAIL \(f.file): \(f.reason)") }
        let summary = "\(report.segmentsChecked) segments (\(formatCount(Int(report.rows))) spans, \(formatCount(Int(report.bytes))) bytes), \(report.bodyFilesChecked) body files"
        if let head = report.head { print("chain head: \(head)") }
        if report.failures.isEmpty {
            print("ok: \(summary); hash chain intact")
        } else {
            print("verify failed: \(report.failures.count) problem(s) in \(summary)")
            throw ExitCode(1)
        }
    }
}
