import ArgumentParser
import Foundation
import PlumbCore
import PlumbDigest
import PlumbQuery
import PlumbStore

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Spend digest for a day or a week: print it, write it, mail it or post it.",
        discussion: """
            Without --out, --smtp or --webhook the digest goes to stdout. The [digest] table of the config file gives \
            defaults (and plumb serve's schedule); the SMTP password comes from PLUMB_SMTP_PASSWORD or digest.smtp_password.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var sourceOption: SourceOption
    @Option(help: "day or week (default: digest.period, else day).") var period: String?
    @Option(help: "A day in the period, YYYY-MM-DD (default: the last complete period).") var date: String?
    @Option(help: "IANA time zone the days are in (default: digest.timezone, else UTC).") var timezone: String?
    @Option(help: "text, markdown, html or json (default text).") var format: String = "text"
    @Option(help: "Write the digest to this file.") var out: String?
    @Option(help: "Send it by email through this server: smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT].") var smtp: String?
    @Option(help: "Sender address (or digest.from).") var from: String?
    @Option(help: "Recipient address; repeat for more (or digest.to).") var to: [String] = []
    @Option(help: "SMTP user name (or digest.smtp_user; password: PLUMB_SMTP_PASSWORD).") var smtpUser: String?
    @Option(help: "PEM file of the CAs to trust for the SMTP server's certificate (or digest.smtp_ca_file).") var smtpCaFile: String?
    @Option(help: "POST it to this URL.") var webhook: String?
    @Option(help: "slack or json (default: digest.webhook_format, else json).") var webhookFormat: String?
    @Option(help: "Retries after a failed delivery (default: digest.retries, else 3).") var retries: Int?
    @Option(help: "Seconds before the first retry; doubled each time (default 2).") var retryDelay: Double?
    @Option(help: ArgumentHelp("Build it as of this time (ISO 8601). Env: PLUMB_NOW.", valueName: "TIME")) var now: String?

    func run() throws {
        let config = common.loadConfig()
        let dir = common.dataDirectory(config)
        var settings: DigestSettings
        do { settings = try DigestSettings(config: config) } catch { fail("\(error)") }
        guard let fmt = DigestFormat(rawValue: format) else { fail("--format must be text, markdown, html or json (got '\(format)')") }
        var engine = QueryEngine(directory: dir)
        sourceOption.apply(to: &engine, config: config)
        do { if let t = try config.string("now", cli: now) { engine.now = try Timestamp.parse(t) } } catch { fail("--now: \(error)") }
        let kindName = period ?? settings.kind.rawValue
        guard let kind = DigestPeriod.Kind(rawValue: kindName) else { fail("--period must be day or week (got '\(kindName)')") }
        let p: DigestPeriod
        do { p = try DigestPeriod.make(kind, date: date, timezone: timezone ?? settings.timezone, now: engine.now) } catch { fail("\(error)") }

        var targets: [DigestTarget] = []
        if let smtp {
            let sender = from ?? settings.smtp?.from
            let recipients = to.isEmpty ? (settings.smtp?.to ?? []) : to.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            guard let sender else { fail("--smtp needs --from (or digest.from)") }
            guard !recipients.isEmpty else { fail("--smtp needs --to (or digest.to)") }
            let password = ProcessInfo.processInfo.environment["PLUMB_SMTP_PASSWORD"] ?? settings.smtp?.password
            let s = SMTPSettings(url: smtp, from: sender, to: recipients, user: smtpUser ?? settings.smtp?.user, password: password,
                                 caFile: smtpCaFile ?? settings.smtp?.caFile)
            do { try s.validate() } catch { fail("\(error)") }
            targets.append(.smtp(s))
        }
        if let webhook {
            let f = webhookFormat ?? settings.webhook?.format.rawValue ?? "json"
            guard let wf = DigestTarget.WebhookFormat(rawValue: f) else { fail("--webhook-format must be slack or json (got '\(f)')") }
            targets.append(.webhook(url: webhook, format: wf))
        }

        var builder = DigestBuilder(engine: engine)
        builder.top = settings.top
        do { builder.prices = try PriceCatalog.builtIn.overridden(by: config) } catch { fail("\(error)") }
        do { builder.priceKeys = PriceKey.byProvider(try ProviderRegistry(config: config)) } catch { fail("\(error)") }
        do { builder.incidentSettings = try IncidentSettings(config: config) } catch { fail("\(error)") }
        let digest: Digest
        do { digest = try builder.build(p) } catch { fail("\(error)") }
        let text = fmt.render(digest)
        if let out {
            do { try text.write(toFile: out, atomically: true, encoding: .utf8) } catch { fail("cannot write \(out): \(error)") }
        } else if targets.isEmpty {
            print(text, terminator: "")
        }
        let delivery = DigestDelivery(retries: retries ?? settings.retries, retryDelay: retryDelay ?? settings.retryDelay)
        var failed = false
        for t in targets {
            do {
                try delivery.send(digest, to: t) { printError("plumb digest: \($0)") }
                printError("plumb digest: \(p.label) sent to \(t.name)")
            } catch {
                printError("plumb: error: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
