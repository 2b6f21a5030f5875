import ArgumentParser
import PlumbQuery
import PlumbStore
#if canImport(Glibc)
import Glibc
#endif

/// `plumb`: argument parsing and wiring only; the work lives in the Plumb* libraries.
@main
struct Plumb: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plumb",
        abstract: "Observability-first logging proxy and trace store for LLM traffic.",
        version: VersionText.text,
        subcommands: [
            ServeCommand.self, QueryCommand.self, TailCommand.self, DashCommand.self, IncidentsCommand.self,
            DigestCommand.self, DemoCommand.self, ImportCommand.self, VerifyCommand.self, ExportCommand.self, KeysCommand.self, AlertsCommand.self,
        ]
    )

    static func main() async {
        // Past a file-size limit, writes should fail with EFBIG (reported, nothing lost) rather
        // than the default SIGXFSZ killing the process mid-write.
        signal(SIGXFSZ, SIG_IGN)
        // Query scan threads allocate concurrently: an arena each (the writer's pipeline wants one).
        let command = CommandLine.arguments.dropFirst().first
        MemoryTuning.apply(command == "serve" ? .server : .batch, arenas: command == "query" ? QueryEngine.defaultThreads : 1)
        await main(nil)
    }
}
