import PlumbCore

/// The `[digest]` table of the config file (schemas/config.md): the schedule `plumb serve`
/// keeps and where digests go. The SMTP password may come from `PLUMB_SMTP_PASSWORD` instead of
/// the file.
///
/// ```toml
/// [digest]
/// period = "day"
/// time = "08:00"
/// timezone = "Europe/Berlin"
/// smtp_url = "smtps://mail.example.com"
/// smtp_user = "plumb"
/// smtp_ca_file = "/etc/ssl/certs/corp-ca.pem"    # optional: the CAs to trust
/// from = "plumb@example.com"
/// to = ["cto@example.com", "finance@example.com"]
/// webhook = "https://hooks.slack.com/services/T000/B000/XXXX"
/// webhook_format = "slack"
/// ```
public struct DigestSettings: Sendable, Equatable {
    public var kind: DigestPeriod.Kind = .day
    /// "HH:MM"; nil: no schedule (`plumb digest` still uses the rest).
    public var time: String?
    public var timezone = "UTC"
    public var smtp: SMTPSettings?
    public var webhook: (url: String, format: DigestTarget.WebhookFormat)?
    public var retries = 3
    public var retryDelay = 2.0
    public var top = 10

    public static func == (a: DigestSettings, b: DigestSettings) -> Bool {
        a.kind == b.kind && a.time == b.time && a.timezone == b.timezone && a.smtp == b.smtp
            && a.webhook?.url == b.webhook?.url && a.webhook?.format == b.webhook?.format && a.retries == b.retries
    }

    public static let keys: Set<String> = ["period", "time", "timezone", "smtp_url", "smtp_user", "smtp_password", "smtp_ca_file", "from", "to",
                                           "webhook", "webhook_format", "retries", "retry_delay", "top"]

    public init() {}

    public init(config: PlumbConfig) throws {
        guard let raw = config.file["digest"] else { return }
        guard case .object(let t) = raw else { throw PlumbConfig.Error("config key 'digest' must be a table ([digest])") }
        for k in t.keys where !Self.keys.contains(k) {
            throw PlumbConfig.Error("unknown key 'digest.\(k)' (known: \(Self.keys.sorted().joined(separator: ", ")))")
        }
        func string(_ k: String) throws -> String? {
            guard let v = t[k] else { return nil }
            guard case .string(let s) = v else { throw PlumbConfig.Error("digest.\(k) must be a string") }
            return s
        }
        func number(_ k: String) throws -> Double? {
            guard let v = t[k] else { return nil }
            guard let d = v.doubleValue else { throw PlumbConfig.Error("digest.\(k) must be a number") }
            return d
        }
        if let p = try string("period") {
            guard let k = DigestPeriod.Kind(rawValue: p) else { throw PlumbConfig.Error("digest.period must be day or week (got '\(p)')") }
            kind = k
        }
        time = try string("time")
        timezone = try string("timezone") ?? "UTC"
        do {
            _ = try DigestPeriod.zone(timezone)
            if let time { _ = try DigestSchedule(kind: kind, time: time, timezone: timezone) }
        } catch { throw PlumbConfig.Error("digest: \(error)") }
        var to: [String] = []
        switch t["to"] {
        case .string(let s)?: to = [s]
        case .array(let a)?: to = try a.map { v in
            guard case .string(let s) = v else { throw PlumbConfig.Error("digest.to must be an address or a list of addresses") }
            return s
        }
        case nil: break
        default: throw PlumbConfig.Error("digest.to must be an address or a list of addresses")
        }
        if let url = try string("smtp_url") {
            guard let from = try string("from") else { throw PlumbConfig.Error("digest.smtp_url needs digest.from (the sender)") }
            guard !to.isEmpty else { throw PlumbConfig.Error("digest.smtp_url needs digest.to (the recipients)") }
            let password = try config.environment["PLUMB_SMTP_PASSWORD"] ?? string("smtp_password")
            let s = SMTPSettings(url: url, from: from, to: to, user: try string("smtp_user"), password: password,
                                 caFile: try string("smtp_ca_file"))
            do { try s.validate() } catch { throw PlumbConfig.Error("digest: \(error)") }
            smtp = s
        }
        if let url = try string("webhook") {
            let f = try string("webhook_format") ?? "json"
            guard let format = DigestTarget.WebhookFormat(rawValue: f) else {
                throw PlumbConfig.Error("digest.webhook_format must be slack or json (got '\(f)')")
            }
            webhook = (url, format)
        }
        retries = Int(try number("retries") ?? 3)
        retryDelay = try number("retry_delay") ?? 2
        top = Int(try number("top") ?? 10)
        guard retries >= 0, retries <= 20, retryDelay >= 0, top >= 1 else {
            throw PlumbConfig.Error("digest.retries must be 0 to 20, digest.retry_delay at least 0, digest.top at least 1")
        }
        if time != nil && smtp == nil && webhook == nil {
            throw PlumbConfig.Error("digest.time schedules digests but there is nowhere to send them (digest.smtp_url or digest.webhook)")
        }
    }

    /// Every configured target.
    public var targets: [DigestTarget] {
        (smtp.map { [DigestTarget.smtp($0)] } ?? []) + (webhook.map { [DigestTarget.webhook(url: $0.url, format: $0.format)] } ?? [])
    }
}
