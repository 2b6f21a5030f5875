import PlumbCore
import PlumbDigest

/// One `[[alerts]]` rule: what it watches, how often, and where its messages go.
///
/// ```toml
/// [[alerts]]
/// name = "provider-down"
/// kind = "incident"                  # incident | spend | budget | query
/// targets = [{ slack = "https://hooks.slack.com/services/…" }, { webhook = "http://…" }, { email = "oncall@example.com" }]
/// ```
public struct AlertRule: Sendable {
    public var name: String
    public var kind: AlertKind
    public var targets: [AlertTarget]
    /// Seconds between evaluations.
    public var interval: Double

    public init(name: String, kind: AlertKind, targets: [AlertTarget], interval: Double = 30) {
        self.name = name; self.kind = kind; self.targets = targets; self.interval = interval
    }
}

/// What a rule watches. Each evaluation yields the instances firing now (a provider in an
/// incident, a user over a spend, a budget past a threshold, a row of a query); an instance
/// that appears opens an alert, one whose state changes (errors → outage, 80% → 100%) sends a
/// change, one that disappears resolves.
public enum AlertKind: Sendable {
    /// Ongoing incidents (as `plumb incidents` finds them), optionally of one provider or model.
    case incident(provider: String?, model: String?)
    /// Spend over the last `window` per group crosses `aboveNanos`, or exceeds `ratio` times
    /// its average over the `baseline` windows before (with at least `minNanos` spent).
    case spend(window: Int64, by: SpendGrouping, aboveNanos: Int64?, ratio: Double?, baseline: Int, minNanos: Int64)
    /// A budget (one, or every one) past a threshold percentage of its amount.
    case budget(name: String?, thresholds: [Int])
    /// Any query: each row it returns is a firing instance, named by its first column.
    case query(sql: String)

    public var name: String {
        switch self {
        case .incident: "incident"
        case .spend: "spend"
        case .budget: "budget"
        case .query: "query"
        }
    }
}

/// The span column a spend alert groups by.
public enum SpendGrouping: Sendable, Equatable {
    case all, provider, model, user, apiKeyHash, key
    case property(String)

    public static func parse(_ text: String) -> SpendGrouping? {
        switch text {
        case "all": return .all
        case "provider": return .provider
        case "model": return .model
        case "user": return .user
        case "api_key_hash": return .apiKeyHash
        case "key": return .key
        default:
            guard text.hasPrefix("property:") else { return nil }
            let name = String(text.dropFirst("property:".count)).lowercased()
            // Written into a query: a property name is letters, digits, '-' and '_'.
            guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy({
                $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0)
            }) else { return nil }
            return .property(name)
        }
    }

    /// Plumb SQL for the group's value.
    var column: String {
        switch self {
        case .all: "'all'"
        case .provider: "provider"
        case .model: "coalesce(model, model_requested)"
        case .user: "user_id"
        case .apiKeyHash: "api_key_hash"
        case .key: "properties['plumb_key']"
        case .property(let n): "properties['\(n)']"
        }
    }
}

/// Where an alert's messages go.
public enum AlertTarget: Sendable, Equatable {
    /// A JSON document (`AlertEvent.json`) POSTed to the URL.
    case webhook(String)
    /// A Slack incoming webhook (`{"text": …, "blocks": […]}`).
    case slack(String)
    /// Mail through the `[digest]` SMTP settings, to these recipients.
    case email(SMTPSettings)

    /// How the target is named in the catalog, logs and `plumb alerts`: never a URL's secret
    /// parts (Slack's path, user info, query).
    public var name: String {
        switch self {
        case .webhook(let u): "webhook:" + URLRedaction.redacted(u)
        case .slack(let u): "slack:" + URLRedaction.redacted(u)
        case .email(let s): "email:" + s.to.joined(separator: ",")
        }
    }
}
