import ArgumentParser
import Foundation
import PlumbAlerts
import PlumbCore
import PlumbStore

/// `plumb alerts`: the rules of `[[alerts]]`, what each finds open now and the last messages
/// (from the catalog, which `plumb serve` keeps); `plumb alerts test RULE` sends a test message.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List alert rules, their open alerts and last sends; 'plumb alerts test RULE' sends a test message.",
        subcommands: [Show.self, Test.self], defaultSubcommand: Show.self)

    static func rules(_ config: PlumbConfig) -> [AlertRule] {
        do { return try AlertSettings(config: config).rules } catch { fail("\(error)") }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Rules, open alerts and the last messages.")
        @OptionGroup var common: CommonOptions
        @Option(help: "How many of the last messages to show.") var last = 20

        func run() throws {
            let config = common.loadConfig()
            let rules = AlertsCommand.rules(config)
            let dir = common.dataDirectory(config)
            let catalog: Catalog?
            catalog = dir.exists ? try? Catalog(path: dir.catalog) : nil
            let states = (try? catalog?.alertStates()) ?? []
            print(rules.isEmpty ? "no alert rules ([[alerts]] in the config file)" : "rules:")
            for r in rules {
                let open = states.filter { $0.rule == r.name }
                print("  \(r.name)\t\(r.kind.name)\tevery \(Int(r.interval)) s\t\(open.isEmpty ? "ok" : "\(open.count) open")\t→ \(r.targets.map(\.name).joined(separator: ", "))")
                for s in open { print("    \(s.state)\t\(s.instance)\tsince \(Timestamp.format(s.openedAt))\t\(s.summary)") }
            }
            let sends = (try? catalog?.alertSends(limit: max(1, last))) ?? []
            guard !sends.isEmpty else { return }
            print("last messages:")
            for m in sends {
                let state = m.sentAt.map { "sent \(Timestamp.format($0))" } ?? (m.failed ? "GAVE UP" : "pending")
                print("  \(Timestamp.format(m.createdAt))\t\(m.rule)\t\(m.event) \(m.instance)\t\(m.target)\t\(state) after \(m.attempts) attempt\(m.attempts == 1 ? "" : "s")"
                      + (m.lastError.map { "\tlast error: \($0)" } ?? ""))
            }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a test message for RULE to each of its targets now.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The rule's name.") var rule: String

        func run() throws {
            let rules = AlertsCommand.rules(common.loadConfig())
            guard let r = rules.first(where: { $0.name == rule }) else {
                fail("no alert rule named '\(rule)' (rules: \(rules.map(\.name).joined(separator: ", ")))")
            }
            let event = AlertEvent(rule: r.name, kind: r.kind.name, event: "test",
                                   instance: AlertInstance(key: "test", state: "test", summary: "a test message from plumb alerts test"),
                                   previousState: nil, at: Timestamp.nowMicros())
            var failed = false
            for t in r.targets {
                do {
                    try AlertSender().send(event, to: t)
                    print("sent to \(t.name)")
                } catch {
                    printError("plumb: \(t.name): \(error)")
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
