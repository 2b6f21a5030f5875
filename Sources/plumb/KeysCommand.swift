import ArgumentParser
import Foundation
import PlumbCore
import PlumbStore

/// `plumb keys`: Plumb keys (virtual keys) in the data directory's catalog. Works while
/// `plumb serve` runs: the server sees each change on the key's next call.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list, revoke and rotate Plumb keys (virtual keys with budgets, limits and allowed models).",
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self])

    static func catalog(_ common: CommonOptions) -> Catalog {
        let dir = common.dataDirectory(common.loadConfig())
        do {
            _ = try dir.create()
            return try Catalog(path: dir.catalog)
        } catch { fail("cannot open the catalog in \(dir.path): \(error)") }
    }

    static func checkedName(_ name: String) -> String {
        guard PlumbKey.isValidName(name) else { fail("key name '\(name)' must be 1 to 64 letters, digits, '-', '_' or '.'") }
        return name
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key and print it once (only its hash is kept).",
            discussion: "Example: plumb keys create --name search-team --budget 200/month --limit 600rpm --models 'gpt-4o*,claude-*' --providers openai,anthropic")

        @OptionGroup var common: CommonOptions
        @Option(help: "The key's name (letters, digits, '-', '_', '.'); spans carry it as properties['plumb_key'].")
        var name: String
        @Option(help: ArgumentHelp("A budget: AMOUNT/PERIOD in USD, period day, week, month or a rolling window (200/month, 10/24h).", valueName: "BUDGET"))
        var budget: String?
        @Option(help: ArgumentHelp("Rate limits: 600rpm, 100000tpm, or both separated by a comma.", valueName: "LIMIT"))
        var limit: String?
        @Option(help: ArgumentHelp("Models the key may ask for, comma-separated globs (gpt-4o*,claude-*).", valueName: "GLOBS"))
        var models: String?
        @Option(help: ArgumentHelp("Providers the key may call, comma-separated.", valueName: "NAMES"))
        var providers: String?

        func run() throws {
            let name = KeysCommand.checkedName(name)
            var record = PlumbKeyRecord(name: name, keyHash: "", prefix: "", createdAt: Timestamp.nowMicros())
            do {
                if let budget { record.budget = try BudgetSpec.parse(budget).description }
                if let limit {
                    let l = try LimitSpec.parse(limit)
                    record.requestsPerMinute = l.requestsPerMinute; record.tokensPerMinute = l.tokensPerMinute
                }
            } catch { fail("\(error)") }
            record.models = KeysCommand.list(models, what: "model glob")
            record.providers = KeysCommand.list(providers, what: "provider")
            let key = PlumbKey.generate()
            record.keyHash = PlumbKey.hash(key)
            record.prefix = PlumbKey.shownPrefix(key)
            do { try KeysCommand.catalog(common).createKey(record) } catch { fail("\(error)") }
            print(key)
            printError("plumb: key '\(name)' created; the key above is shown only this once")
        }
    }

    static func list(_ text: String?, what: String) -> [String] {
        guard let text else { return [] }
        let items = text.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        for i in items where i.utf8.count > 128 || i.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            fail("\(what) '\(i)' must be visible ASCII of at most 128 bytes")
        }
        return items
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys (never the keys themselves: their first characters).")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Show revoked and rotated-out keys too.")
        var all = false
        @Option(help: "table or json.")
        var format = "table"

        func run() throws {
            let keys: [PlumbKeyRecord]
            do { keys = try KeysCommand.catalog(common).keys(includeRevoked: all) } catch { fail("\(error)") }
            if format == "json" {
                var w = JSONWriter()
                w.value(.array(keys.map { k in
                    .object(["name": .string(k.name), "prefix": .string(k.prefix), "created_at": .string(Timestamp.format(k.createdAt)),
                             "revoked_at": k.revokedAt.map { .string(Timestamp.format($0)) } ?? .null,
                             "budget": k.budget.map { .string($0) } ?? .null,
                             "requests_per_minute": k.requestsPerMinute.map { .int($0) } ?? .null,
                             "tokens_per_minute": k.tokensPerMinute.map { .int($0) } ?? .null,
                             "models": .array(k.models.map { .string($0) }), "providers": .array(k.providers.map { .string($0) })])
                }))
                print(String(decoding: w.bytes, as: UTF8.self))
                return
            }
            guard format == "table" else { fail("--format must be table or json") }
            print("name\tprefix\tcreated\tstate\tbudget\tlimits\tmodels\tproviders")
            for k in keys {
                let limits = [k.requestsPerMinute.map { "\($0)rpm" }, k.tokensPerMinute.map { "\($0)tpm" }].compactMap { $0 }.joined(separator: ",")
                print([k.name, k.prefix + "…", Timestamp.format(k.createdAt), k.revokedAt == nil ? "live" : "revoked",
                       k.budget ?? "-", limits.isEmpty ? "-" : limits, k.models.isEmpty ? "*" : k.models.joined(separator: ","),
                       k.providers.isEmpty ? "*" : k.providers.joined(separator: ",")].joined(separator: "\t"))
            }
        }
    }

    /// The data directory and the name of the key a command acts on.
    struct KeyName: ParsableArguments {
        @OptionGroup var common: CommonOptions
        @Argument(help: "The key's name.")
        var name: String
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: its next call is refused.")
        @OptionGroup var key: KeyName

        func run() throws {
            let name = key.name
            let done: Bool
            do { done = try KeysCommand.catalog(key.common).revokeKey(named: KeysCommand.checkedName(name), at: Timestamp.nowMicros()) } catch { fail("\(error)") }
            guard done else { fail("no live key named '\(name)'") }
            print("revoked key '\(name)'")
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a key a new secret, same settings; the old secret stops working at once.")
        @OptionGroup var named: KeyName

        func run() throws {
            let name = named.name
            let key = PlumbKey.generate()
            let rotated: PlumbKeyRecord?
            do {
                rotated = try KeysCommand.catalog(named.common).rotateKey(named: KeysCommand.checkedName(name), keyHash: PlumbKey.hash(key),
                                                                    prefix: PlumbKey.shownPrefix(key), at: Timestamp.nowMicros())
            } catch { fail("\(error)") }
            guard rotated != nil else { fail("no live key named '\(name)'") }
            print(key)
            printError("plumb: key '\(name)' rotated; the key above is shown only this once")
        }
    }
}
