import ArgumentParser
import Foundation
import PlumbCore
import PlumbStore

/// Options every subcommand shares: the config file and the data directory.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Config file (TOML). Env: PLUMB_CONFIG.")
    var config: String?

    @Option(name: .long, help: "Data directory (default ./plumb-data). Env: PLUMB_DATA; config key: data.")
    var data: String?

    func loadConfig() -> PlumbConfig {
        let env = ProcessInfo.processInfo.environment
        let path = config ?? env["PLUMB_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            var text: String? = nil
            if let path {
                guard let t = try? String(contentsOfFile: path, encoding: .utf8) else {
                    fail("cannot read config file \(path)")
                }
                text = t
            }
            return try PlumbConfig(toml: text, path: path ?? "config", environment: env)
        } catch {
            fail("\(error)")
        }
    }

    func dataDirectory(_ config: PlumbConfig) -> DataDirectory {
        do { return DataDirectory(try config.string("data", cli: data) ?? "./plumb-data") } catch { fail("\(error)") }
    }

    func storeOptions(_ config: PlumbConfig) -> StoreOptions {
        var o = StoreOptions()
        do {
            if let r = try config.duration("retention") { o.retentionMicros = r }
            if let r = try config.duration("body_retention") { o.bodyRetentionMicros = r }
            if let c = try config.bool("compaction") { o.compaction = c }
            if let lag = try config.duration("export_max_lag") { o.exportMaxLagMicros = lag }
        } catch { fail("\(error)") }
        return o
    }
}

/// One clear line on stderr and a non-zero exit; never a stack trace.
func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("plumb: error: \(message)\n".utf8))
    exit(code)
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("\(message)\n".utf8))
}

/// Subcommands whose issue has not landed yet say so and exit 2.
