import PlumbCore
import PlumbQuery

/// Builds a `Digest` by asking the query engine, one query per figure, so that every number is
/// the one `plumb query` gives for the same period.
///
/// ```swift
/// let period = try DigestPeriod.make(.day, date: nil, timezone: "UTC", now: Timestamp.nowMicros())
/// let digest = try DigestBuilder(engine: QueryEngine(directory: dir)).build(period)
/// ```
public struct DigestBuilder: Sendable {
    public var engine: QueryEngine
    public var prices: PriceCatalog
    /// Where a provider's prices are looked up when not under its own name (Azure, Bedrock and
    /// Vertex providers: `PriceKey.byProvider(registry)`).
    public var priceKeys: [String: PriceKey] = [:]
    public var incidentSettings: IncidentSettings
    /// Rows per breakdown before the rest is summed into "(others)".
    public var top = 10
    /// An anomaly spends at least `anomalyMultiple` times its trailing average, and at least
    /// `anomalyMinimumUSD` in the period.
    public var anomalyMultiple = 3.0
    public var anomalyMinimumUSD = 1.0

    /// Requests that failed, as the dashboards and incidents count them.
    static let failed = IncidentDetector.failed

    public init(engine: QueryEngine, prices: PriceCatalog = .builtIn, incidentSettings: IncidentSettings = IncidentSettings()) {
        self.engine = engine; self.prices = prices; self.incidentSettings = incidentSettings
    }

    func rows(_ sql: String) throws -> [[Value]] { try engine.collect(sql).rows }

    static func double(_ v: Value) -> Double { v.asDouble ?? 0 }
    static func int(_ v: Value) -> Int64 { if case .int(let i) = v { return i }; return Int64(v.asDouble ?? 0) }
    static func text(_ v: Value) -> String { ValueText.plain(v) ?? "(none)" }
    static func optional(_ v: Value) -> Double? { v.asDouble }

    /// Queries run this many at a time (`ParallelJobs`).
    public var lanes = 2
    /// Decoded columns kept between the digest's queries.
    public var columnCacheBytes = 256 << 20

    public func build(_ p: DigestPeriod) throws -> Digest {
        let c = p.condition
        let base = p.baseline
        if engine.columnCache == nil {
            // The queries read much the same columns of the same weeks.
            var builder = self
            builder.engine.columnCache = ColumnCache(budget: columnCacheBytes)
            return try builder.build(p)
        }
        let jobs = ParallelJobs()
        // Longest first.
        var asOf = engine
        asOf.now = min(engine.now, p.end)
        let settings = incidentSettings
        let incidents = jobs.add { [asOf] in
            asOf.now > p.start ? try IncidentDetector(engine: asOf, settings: settings).detect(since: p.start, until: asOf.now) : []
        }
        let before = Self.anomalyDimensions.map { _, expr in jobs.add { try baselineSpend(expr, p) } }
        let latency = jobs.add { try self.latency(c) }
        let users = jobs.add { try breakdown("coalesce(user_id, '(none)')", c) }
        let t = jobs.add {
            try rows("""
                SELECT coalesce(sum(cost_usd), 0), count(*), count_if(\(Self.failed)), coalesce(sum(input_tokens), 0),
                       coalesce(sum(output_tokens), 0), coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_write_tokens), 0),
                       coalesce(sum(reasoning_tokens), 0)
                FROM spans WHERE \(c)
                """)[0]
        }
        let propertyRows = try engine.propertyKeys(from: p.start, to: p.end).map { key in
            (key, jobs.add { try breakdown("coalesce(properties[\(Self.quote(key))], '(none)')", c) })
        }
        let firstModels = jobs.add { try firstSeen("coalesce(model, model_requested)", p) }
        let firstKeys = jobs.add { try firstSeen("api_key_hash", p) }
        let models = jobs.add { try breakdown("coalesce(model, model_requested, '(none)')", c) }
        let keys = jobs.add { try breakdown("coalesce(api_key_hash, '(none)')", c) }
        let providers = jobs.add { try breakdown("provider", c) }
        let cacheSavings = jobs.add { try self.cacheSavings(c) }
        let unpriced = jobs.add { try self.unpriced(c) }
        let prev = jobs.add { try rows("SELECT coalesce(sum(cost_usd), 0), count(*) FROM spans WHERE \(p.previous.condition)")[0] }
        let baseSpend = jobs.add { try rows("SELECT coalesce(sum(cost_usd), 0) FROM spans WHERE \(DigestPeriod.condition(base.start, base.end))")[0][0] }
        try jobs.run(lanes: lanes)

        var properties: [(String, [Digest.Breakdown.Row])] = []
        for (key, result) in propertyRows {
            let rows = result.value
            // A key of a row group that straddles the period but of no span in it: not shown.
            if rows.allSatisfy({ $0.label == "(none)" }), try !keyIsPresent(key, c) { continue }
            properties.append((key, cut(rows)))
        }
        let newModels = attach(firstModels.value, models.value), newKeys = attach(firstKeys.value, keys.value)
        let totals = t.value
        return Digest(
            period: p, generatedAt: engine.now,
            spend: Self.double(totals[0]), previousSpend: Self.double(prev.value[0]),
            baselineSpend: Self.double(baseSpend.value) / Double(p.baselinePeriods),
            requests: Self.int(totals[1]), previousRequests: Self.int(prev.value[1]), failed: Self.int(totals[2]),
            tokens: Digest.Tokens(input: Self.int(totals[3]), output: Self.int(totals[4]), cacheRead: Self.int(totals[5]),
                                  cacheWrite: Self.int(totals[6]), reasoning: Self.int(totals[7])),
            cacheSavings: cacheSavings.value,
            byProvider: cut(providers.value), byModel: cut(models.value), byUser: cut(users.value), byKey: cut(keys.value),
            byProperty: properties, latency: latency.value, incidents: incidents.value, unpriced: unpriced.value,
            anomalies: anomalies(p, now: [users.value, keys.value, models.value], before: before.map(\.value),
                                 new: Set(newModels.map(\.label) + newKeys.map(\.label))),
            newModels: newModels, newKeys: newKeys)
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    /// Spend, requests and tokens per value of `expr`, most spend first (all rows).
    func breakdown(_ expr: String, _ c: String) throws -> [Digest.Breakdown.Row] {
        try rows("""
            SELECT \(expr) AS label, coalesce(sum(cost_usd), 0) AS spend, count(*) AS requests,
                   coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0)
            FROM spans WHERE \(c) GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1
            """).map { r in
            Digest.Breakdown.Row(label: Self.text(r[0]), spend: Self.double(r[1]), requests: Self.int(r[2]),
                                 inputTokens: Self.int(r[3]), outputTokens: Self.int(r[4]))
        }
    }

    /// The first `top` rows, and the rest summed as "(others)".
    func cut(_ all: [Digest.Breakdown.Row]) -> [Digest.Breakdown.Row] {
        guard all.count > top else { return all }
        let rest = all[top...]
        var others = Digest.Breakdown.Row(label: "(\(rest.count) others)", spend: 0, requests: 0, inputTokens: 0, outputTokens: 0, isOthers: true)
        for r in rest {
            others.spend += r.spend; others.requests += r.requests
            others.inputTokens += r.inputTokens; others.outputTokens += r.outputTokens
        }
        return Array(all.prefix(top)) + [others]
    }

    /// Whether any span of the period has `key` among its properties (even with an empty value).
    func keyIsPresent(_ key: String, _ c: String) throws -> Bool {
        Self.int(try rows("SELECT count(properties[\(Self.quote(key))]) FROM spans WHERE \(c)")[0][0]) > 0
    }

    func cacheSavings(_ c: String) throws -> Double {
        var saved = 0.0
        for r in try rows("""
            SELECT provider, coalesce(model, model_requested), sum(cache_read_tokens) FROM spans
            WHERE \(c) AND cache_read_tokens > 0 GROUP BY 1, 2
            """) {
            guard case .string(let provider) = r[0], case .string(let model) = r[1], let price = prices.price(priceKeys[provider] ?? PriceKey(provider: provider), model: model) else { continue }
            saved += Self.double(r[2]) * max(0, price.input - (price.cacheRead ?? price.input))
        }
        return saved
    }

    func latency(_ c: String) throws -> [Digest.Latency] {
        try rows("""
            SELECT provider, count(*), median(latency_ms), quantile_cont(latency_ms, 0.95), median(ttft_ms), quantile_cont(ttft_ms, 0.95)
            FROM spans WHERE \(c) GROUP BY 1 ORDER BY 2 DESC, 1
            """).map { r in
            Digest.Latency(provider: Self.text(r[0]), requests: Self.int(r[1]), p50: Self.optional(r[2]), p95: Self.optional(r[3]),
                           ttftP50: Self.optional(r[4]), ttftP95: Self.optional(r[5]))
        }
    }

    func unpriced(_ c: String) throws -> [Digest.Unpriced] {
        try rows("""
            SELECT provider, coalesce(model, model_requested, '(none)'), count(*) FROM spans
            WHERE \(c) AND cost_usd IS NULL AND status < 400 GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
            """).map { Digest.Unpriced(provider: Self.text($0[0]), model: Self.text($0[1]), requests: Self.int($0[2])) }
    }
}

