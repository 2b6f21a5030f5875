import Foundation
import PlumbCore

/// What `[control]`, `[[budgets]]`, `[[limits]]` and the providers' `api_key_env` configure
/// (schemas/config.md, "Control").
///
/// ```toml
/// [control]
/// require_key = true            # every proxied call must present a Plumb key
/// estimate_max_tokens = 4096    # a call's output estimate when it sets no max_tokens
///
/// [[budgets]]
/// scope = { property = "team", value = "search" }
/// amount_usd = 200
/// period = "month"              # day | week | month (in time_zone) | a rolling window: "24h"
///
/// [[limits]]
/// scope = { key = "search-team" }
/// requests_per_minute = 600
/// tokens_per_minute = 200000
/// ```
public struct ControlSettings: Sendable {
    struct BudgetRule: Sendable {
        var name: String
        var scope: PolicyScope
        var spec: BudgetSpec
        var zone: TimeZone
    }

    struct LimitRule: Sendable {
        var name: String
        var scope: PolicyScope
        var spec: LimitSpec
    }

    /// Every proxied call must present a valid Plumb key.
    public var requireKey = false
    /// The output tokens a call is assumed to use, for its in-flight estimate, when its request
    /// sets no `max_tokens` (or the shape's equivalent).
    public var estimateMaxTokens: Int64 = 4096
    /// Where calendar budget periods begin (`day`, `week`, `month`).
    public var timeZone = TimeZone(identifier: "UTC")!
    var budgets: [BudgetRule] = []
    var limits: [LimitRule] = []
    /// Provider name → the key Plumb calls it with for callers that present a Plumb key (read
    /// from the environment variable the provider's `api_key_env` names). Memory only.
    var providerKeys: [String: String] = [:]

    /// `[control] redis`: limits and calendar budgets counted in Redis, shared by every
    /// `plumb serve` that names the same one.
    struct RedisSettings: Sendable {
        var endpoint: RedisEndpoint
        /// Seconds a Redis answer may take before the failure policy applies.
        var timeout = 0.1
        /// When Redis fails: refuse calls under a limit (503), or count them here alone (default).
        var failClosedLimits = false
        /// The same for budgets.
        var failClosedBudgets = false
    }
    var redis: RedisSettings?

    public init() {}

    /// The budgets and limits in one line each (an audit record when it changes).
    var policyDescription: String {
        (budgets.map { "budget \($0.name): \($0.spec) for \($0.scope) (\($0.zone.identifier))" }
            + limits.map { "limit \($0.name): \([$0.spec.requestsPerMinute.map { "\($0)rpm" }, $0.spec.tokensPerMinute.map { "\($0)tpm" }].compactMap { $0 }.joined(separator: ",")) for \($0.scope)" }
            + (requireKey ? ["require_key"] : [])).joined(separator: "; ")
    }

    /// Whether any budget or limit is configured (keys bring their own).
    var hasRules: Bool { !budgets.isEmpty || !limits.isEmpty }

    public init(config: PlumbConfig, registry: ProviderRegistry) throws {
        if let v = config.file["control"] {
            guard case .object(let t) = v else { throw PlumbConfig.Error("config key 'control' must be a table ([control])") }
            let known = ["require_key", "estimate_max_tokens", "time_zone", "redis", "redis_timeout", "redis_limits", "redis_budgets"]
            for k in t.keys where !known.contains(k) {
                throw PlumbConfig.Error("control: unknown key '\(k)' (known: \(known.sorted().joined(separator: ", ")))")
            }
            if let r = t["redis"] {
                guard case .string(let url) = r else { throw PlumbConfig.Error("control.redis must be a URL such as redis://127.0.0.1:6379/0") }
                var settings = RedisSettings(endpoint: try RedisEndpoint(url: url, password: config.environment["PLUMB_REDIS_PASSWORD"]))
                if case .string(let d)? = t["redis_timeout"] {
                    guard let micros = PlumbConfig.parseDuration(d), micros >= 1_000, micros <= 10_000_000 else {
                        throw PlumbConfig.Error("control.redis_timeout must be a duration from 1ms to 10s, such as \"100ms\"")
                    }
                    settings.timeout = Double(micros) / 1e6
                } else if t["redis_timeout"] != nil {
                    throw PlumbConfig.Error("control.redis_timeout must be a duration such as \"100ms\"")
                }
                func policy(_ k: String) throws -> Bool {
                    switch t[k] {
                    case nil, .string("fail_open")?: return false
                    case .string("fail_closed")?: return true
                    default: throw PlumbConfig.Error("control.\(k) must be \"fail_open\" or \"fail_closed\"")
                    }
                }
                settings.failClosedLimits = try policy("redis_limits")
                settings.failClosedBudgets = try policy("redis_budgets")
                redis = settings
            } else if let k = ["redis_timeout", "redis_limits", "redis_budgets"].first(where: { t[$0] != nil }) {
                throw PlumbConfig.Error("control.\(k) is set but control.redis is not")
            }
            if let r = t["require_key"] {
                guard case .bool(let b) = r else { throw PlumbConfig.Error("control.require_key must be true or false") }
                requireKey = b
            }
            if let m = t["estimate_max_tokens"] {
                guard case .int(let n) = m, n > 0, n <= 10_000_000 else { throw PlumbConfig.Error("control.estimate_max_tokens must be a whole number from 1 to 10000000") }
                estimateMaxTokens = Int64(n)
            }
            if let z = t["time_zone"] { timeZone = try Self.zone(z, at: "control.time_zone") }
        }
        if let env = config.environment[PlumbConfig.environmentName("require_key")], !env.isEmpty {
            requireKey = ["true", "1", "yes", "on"].contains(env.lowercased())
        }
        for (i, t) in try Self.tables(config, "budgets").enumerated() {
            let at = "budgets[\(i + 1)]"
            for k in t.keys where !["name", "scope", "amount_usd", "period", "time_zone"].contains(k) {
                throw PlumbConfig.Error("\(at): unknown key '\(k)' (known: amount_usd, name, period, scope, time_zone)")
            }
            let scope = try PolicyScope.parse(t["scope"], at: at)
            let amountText: String
            switch t["amount_usd"] {
            case .int(let n)?: amountText = String(n)
            case .double(let d)?:
                // A TOML float: its nearest nanodollar, if it is one (0.000005, not 5e-06 as text).
                let n = d * 1e9
                amountText = d.isFinite && d > 0 && d < 1e9 && abs(n - n.rounded()) < 1e-3 ? Money.format(Int64(n.rounded())) : String(d)
            case .string(let s)?: amountText = s
            default: throw PlumbConfig.Error("\(at).amount_usd is required: dollars above 0, such as 200 or 12.50")
            }
            guard let nanos = Money.nanos(parsing: amountText), nanos > 0 else {
                throw PlumbConfig.Error("\(at).amount_usd must be dollars above 0 with at most 9 decimals, got '\(amountText)'")
            }
            guard case .string(let periodText)? = t["period"] else { throw PlumbConfig.Error("\(at).period is required: day, week, month or a rolling window such as \"24h\"") }
            let period: BudgetPeriod
            do { period = try BudgetPeriod.parse(periodText) } catch { throw PlumbConfig.Error("\(at): \(error)") }
            let zone = try t["time_zone"].map { try Self.zone($0, at: "\(at).time_zone") } ?? timeZone
            budgets.append(BudgetRule(name: try Self.name(t, at: at) ?? "budget \(i + 1)", scope: scope,
                                      spec: BudgetSpec(amountNanos: nanos, period: period), zone: zone))
        }
        for (i, t) in try Self.tables(config, "limits").enumerated() {
            let at = "limits[\(i + 1)]"
            for k in t.keys where !["name", "scope", "requests_per_minute", "tokens_per_minute"].contains(k) {
                throw PlumbConfig.Error("\(at): unknown key '\(k)' (known: name, requests_per_minute, scope, tokens_per_minute)")
            }
            func count(_ k: String) throws -> Int64? {
                guard let v = t[k] else { return nil }
                guard case .int(let n) = v, n > 0, Int64(n) <= LimitSpec.maxPerMinute else {
                    throw PlumbConfig.Error("\(at).\(k) must be a whole number from 1 to \(LimitSpec.maxPerMinute)")
                }
                return Int64(n)
            }
            let spec = LimitSpec(requestsPerMinute: try count("requests_per_minute"), tokensPerMinute: try count("tokens_per_minute"))
            guard spec.requestsPerMinute != nil || spec.tokensPerMinute != nil else {
                throw PlumbConfig.Error("\(at) sets neither requests_per_minute nor tokens_per_minute")
            }
            limits.append(LimitRule(name: try Self.name(t, at: at) ?? "limit \(i + 1)", scope: try PolicyScope.parse(t["scope"], at: at), spec: spec))
        }
        for (what, names) in [("budgets", budgets.map(\.name)), ("limits", limits.map(\.name))] {
            var seen: Set<String> = []
            for n in names where !seen.insert(n).inserted {
                throw PlumbConfig.Error("\(what): two have the name '\(n)' (a name is what the budget or limit is counted under)")
            }
        }
        for (name, p) in registry.providers {
            guard let env = p.apiKeyEnv else { continue }
            guard let key = config.environment[env], !key.isEmpty else {
                throw PlumbConfig.Error("providers.\(name).api_key_env names \(env), which is not set in Plumb's environment")
            }
            providerKeys[name] = key
        }
    }

    static func tables(_ config: PlumbConfig, _ key: String) throws -> [[String: JSONValue]] {
        guard let v = config.file[key] else { return [] }
        guard case .array(let a) = v else { throw PlumbConfig.Error("config key '\(key)' must be an array of tables ([[\(key)]])") }
        guard a.count <= 1000 else { throw PlumbConfig.Error("config key '\(key)': at most 1000 entries") }
        return try a.enumerated().map { i, e in
            guard case .object(let t) = e else { throw PlumbConfig.Error("\(key)[\(i + 1)] must be a table") }
            return t
        }
    }

    static func name(_ t: [String: JSONValue], at: String) throws -> String? {
        guard let v = t["name"] else { return nil }
        guard case .string(let s) = v, PlumbKey.isValidName(s) else {
            throw PlumbConfig.Error("\(at).name must be 1 to 64 letters, digits, '-', '_' or '.'")
        }
        return s
    }

    static func zone(_ v: JSONValue, at: String) throws -> TimeZone {
        guard case .string(let s) = v, let z = TimeZone(identifier: s) else {
            throw PlumbConfig.Error("\(at) must be an IANA time zone such as UTC or Europe/Berlin")
        }
        return z
    }
}
