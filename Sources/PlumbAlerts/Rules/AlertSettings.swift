import PlumbCore
import PlumbDigest

/// The `[[alerts]]` rules of the config file (schemas/config.md, "Alerts"). Email targets use
/// the `[digest]` SMTP settings with the target's own recipients.
///
/// ```swift
/// let rules = try AlertSettings(config: config).rules
/// ```
public struct AlertSettings: Sendable {
    public var rules: [AlertRule] = []

    public init() {}

    static let keys: Set<String> = ["name", "kind", "targets", "interval", "provider", "model", "window", "by", "above_usd",
                                    "above_ratio", "baseline", "min_usd", "budget", "thresholds", "sql"]

    public init(config: PlumbConfig) throws {
        guard let v = config.file["alerts"] else { return }
        guard case .array(let entries) = v else { throw PlumbConfig.Error("config key 'alerts' must be an array of tables ([[alerts]])") }
        guard entries.count <= 200 else { throw PlumbConfig.Error("config key 'alerts': at most 200 rules") }
        let smtp = try DigestSettings(config: config).smtp
        var names: Set<String> = []
        for (i, e) in entries.enumerated() {
            let at = "alerts[\(i + 1)]"
            guard case .object(let t) = e else { throw PlumbConfig.Error("\(at) must be a table") }
            for k in t.keys where !Self.keys.contains(k) {
                throw PlumbConfig.Error("\(at): unknown key '\(k)' (known: \(Self.keys.sorted().joined(separator: ", ")))")
            }
            func string(_ k: String) throws -> String? {
                guard let v = t[k] else { return nil }
                guard case .string(let s) = v, !s.isEmpty else { throw PlumbConfig.Error("\(at).\(k) must be a non-empty string") }
                return s
            }
            func number(_ k: String) throws -> Double? {
                guard let v = t[k] else { return nil }
                guard let d = v.doubleValue, d.isFinite, d >= 0 else { throw PlumbConfig.Error("\(at).\(k) must be a number from 0") }
                return d
            }
            func duration(_ k: String, default d: Int64) throws -> Int64 {
                guard let s = try string(k) else { return d }
                guard let v = PlumbConfig.parseDuration(s), v >= 1_000_000 else {
                    throw PlumbConfig.Error("\(at).\(k) must be a duration of at least 1s, such as \"30s\" or \"1h\" (got '\(s)')")
                }
                return v
            }
            let name = try string("name") ?? "alert-\(i + 1)"
            guard PlumbKey.isValidName(name) else { throw PlumbConfig.Error("\(at).name must be 1 to 64 letters, digits, '-', '_' or '.'") }
            guard names.insert(name).inserted else { throw PlumbConfig.Error("\(at).name '\(name)' is used by another rule") }
            let kind: AlertKind
            switch try string("kind") {
            case "incident"?:
                kind = .incident(provider: try string("provider"), model: try string("model"))
            case "spend"?:
                let byText = try string("by") ?? "all"
                guard let by = SpendGrouping.parse(byText) else {
                    throw PlumbConfig.Error("\(at).by must be all, provider, model, user, api_key_hash, key or property:NAME (got '\(byText)')")
                }
                let above = try number("above_usd").map { d -> Int64 in
                    guard d > 0 else { throw PlumbConfig.Error("\(at).above_usd must be above 0") }
                    return Money.nanos(d)
                }
                let ratio = try number("above_ratio")
                if let ratio, ratio <= 1 { throw PlumbConfig.Error("\(at).above_ratio must be above 1 (N times the trailing average)") }
                guard above != nil || ratio != nil else { throw PlumbConfig.Error("\(at): a spend alert needs above_usd or above_ratio") }
                let baseline = Int(try number("baseline") ?? 7)
                guard (1...90).contains(baseline) else { throw PlumbConfig.Error("\(at).baseline must be 1 to 90 windows") }
                kind = .spend(window: try duration("window", default: 3_600_000_000), by: by, aboveNanos: above, ratio: ratio,
                              baseline: baseline, minNanos: Money.nanos(try number("min_usd") ?? 0))
            case "budget"?:
                var thresholds = [50, 80, 100]
                if let v = t["thresholds"] {
                    guard case .array(let a) = v, !a.isEmpty, a.count <= 10 else { throw PlumbConfig.Error("\(at).thresholds must be a list of 1 to 10 percentages") }
                    thresholds = try a.map { x in
                        guard case .int(let n) = x, n > 0, n <= 1000 else { throw PlumbConfig.Error("\(at).thresholds: each is a whole percentage from 1 to 1000") }
                        return Int(n)
                    }.sorted()
                }
                kind = .budget(name: try string("budget"), thresholds: Array(Set(thresholds)).sorted())
            case "query"?:
                guard let sql = try string("sql") else { throw PlumbConfig.Error("\(at): a query alert needs sql (each row it returns fires)") }
                guard sql.utf8.count <= 64 << 10 else { throw PlumbConfig.Error("\(at).sql is over 64 KiB") }
                kind = .query(sql: sql)
            case let other:
                throw PlumbConfig.Error("\(at).kind must be incident, spend, budget or query" + (other.map { " (got '\($0)')" } ?? ""))
            }
            guard case .array(let list)? = t["targets"], !list.isEmpty, list.count <= 10 else {
                throw PlumbConfig.Error("\(at).targets must list 1 to 10 targets: { webhook = URL }, { slack = URL } or { email = ADDRESS }")
            }
            let targets = try list.enumerated().map { j, v -> AlertTarget in
                guard case .object(let o) = v, o.count == 1, let (k, value) = o.first, case .string(let s) = value, !s.isEmpty else {
                    throw PlumbConfig.Error("\(at).targets[\(j + 1)] must be one of { webhook = URL }, { slack = URL }, { email = ADDRESS }")
                }
                switch k {
                case "webhook", "slack":
                    guard s.hasPrefix("http://") || s.hasPrefix("https://"), !s.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else {
                        throw PlumbConfig.Error("\(at).targets[\(j + 1)].\(k) must be an http:// or https:// URL")
                    }
                    return k == "slack" ? .slack(s) : .webhook(s)
                case "email":
                    guard var mail = smtp else {
                        throw PlumbConfig.Error("\(at).targets[\(j + 1)]: an email target needs the SMTP settings of [digest] (smtp_url, from)")
                    }
                    mail.to = s.split(separator: ",").map { String($0).trimmingSpaces() }
                    do { try mail.validate() } catch { throw PlumbConfig.Error("\(at).targets[\(j + 1)].email: \(error)") }
                    return .email(mail)
                default:
                    throw PlumbConfig.Error("\(at).targets[\(j + 1)]: unknown target '\(k)' (known: email, slack, webhook)")
                }
            }
            let interval = Double(try duration("interval", default: 30_000_000)) / 1e6
            rules.append(AlertRule(name: name, kind: kind, targets: targets, interval: interval))
        }
    }
}
