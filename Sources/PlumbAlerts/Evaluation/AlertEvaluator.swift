import PlumbCore
import PlumbQuery
import PlumbStore

/// Finds what a rule's condition holds for now, as instances (see `AlertKind`). Reads the
/// store with Plumb's own engine, so an alert says exactly what `plumb query` would.
///
/// ```swift
/// let firing = try AlertEvaluator(directory: dir, budgets: { [] }).firing(rule.kind, now: Timestamp.nowMicros())
/// ```
public struct AlertEvaluator: Sendable {
    public let directory: DataDirectory
    public var incidentSettings = IncidentSettings()
    /// The proxy's budgets as it counts them (empty outside `plumb serve`).
    public let budgets: @Sendable () -> [BudgetStatus]

    public init(directory: DataDirectory, budgets: @escaping @Sendable () -> [BudgetStatus]) {
        self.directory = directory; self.budgets = budgets
    }

    /// The most instances one evaluation keeps (the rest wait for the next): a rule over
    /// thousands of users must not send thousands of messages, nor grow its state without end.
    public static let maxInstances = 100

    public func firing(_ kind: AlertKind, now: Int64) throws -> [AlertInstance] {
        Array(try unbounded(kind, now: now).prefix(Self.maxInstances))
    }

    func unbounded(_ kind: AlertKind, now: Int64) throws -> [AlertInstance] {
        switch kind {
        case .incident(let provider, let model): return try incidents(provider: provider, model: model, now: now)
        case .spend(let window, let by, let above, let ratio, let baseline, let minimum):
            return try spend(window: window, by: by, above: above, ratio: ratio, baseline: baseline, minimum: minimum, now: now)
        case .budget(let name, let thresholds): return budgetLevels(name: name, thresholds: thresholds)
        case .query(let sql): return try query(sql, now: now)
        }
    }

    func incidents(provider: String?, model: String?, now: Int64) throws -> [AlertInstance] {
        let detector = IncidentDetector(engine: QueryEngine(directory: directory, now: now), settings: incidentSettings)
        return try detector.detect(since: now - 2 * 3_600_000_000, until: now).filter {
            $0.ongoing && (provider == nil || $0.provider == provider) && (model == nil || $0.model == model)
        }.map { i in
            let scope = i.model.map { "\(i.provider)/\($0)" } ?? i.provider
            let rate = Int((i.peakErrorRate * 100).rounded())
            return AlertInstance(
                key: scope, state: i.kind.rawValue,
                summary: "\(i.kind.rawValue) on \(scope) since \(Timestamp.format(i.start)): \(i.affected) of \(i.requests) requests failed (peak \(rate)% a minute)",
                figures: ["provider": .string(i.provider), "model": i.model.map { .string($0) } ?? .null, "kind": .string(i.kind.rawValue),
                          "start": .string(Timestamp.format(i.start)), "requests": .int(i.requests), "affected": .int(i.affected),
                          "peak_error_rate": .double(i.peakErrorRate), "failed_cost_usd": .double(i.failedCostUSD)],
                query: i.query)
        }
    }

    func spend(window: Int64, by: SpendGrouping, above: Int64?, ratio: Double?, baseline: Int, minimum: Int64, now: Int64) throws -> [AlertInstance] {
        let current = try sums(by: by, from: now - window, to: now, now: now)
        let before = ratio == nil ? [:] : try sums(by: by, from: now - window * Int64(baseline + 1), to: now - window, now: now)
        var out: [AlertInstance] = []
        let windowText = Self.duration(window)
        // The largest first, so that the bound keeps the groups that matter most.
        for (group, spent) in current.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            var reasons: [String] = []
            if let above, spent >= above { reasons.append("over \(Money.format(above)) USD") }
            let average = (before[group] ?? 0) / Int64(baseline)
            if let ratio, spent >= minimum, average > 0, Double(spent) >= ratio * Double(average) {
                reasons.append(String(format: "%.1f× its average of %@ USD over the %d %@ before", Double(spent) / Double(average),
                                      Money.format(average), baseline, baseline == 1 ? "window" : "windows"))
            }
            guard !reasons.isEmpty else { continue }
            let scope = by == .all ? "all calls" : "\(by.column) = \(group)"
            out.append(AlertInstance(
                key: group, state: "over",
                summary: "spend of \(scope) in the last \(windowText): \(Money.format(spent)) USD, \(reasons.joined(separator: " and "))",
                figures: ["group": .string(group), "spent_usd": .string(Money.format(spent)), "window": .string(windowText),
                          "average_usd": ratio == nil ? .null : .string(Money.format(average))],
                query: "SELECT * FROM spans WHERE ts_start >= '\(Timestamp.format(now - window))'"
                    + (by == .all ? "" : " AND \(by.column) = '\(group.replacingOccurrences(of: "'", with: "''"))'") + " ORDER BY ts_start"))
        }
        return out
    }

    /// Spend by group in [from, to), nanodollars; groups without a value (no user) are left out.
    func sums(by: SpendGrouping, from: Int64, to: Int64, now: Int64) throws -> [String: Int64] {
        let sql = """
            SELECT \(by.column) AS g, sum(cost_usd) AS c FROM spans
            WHERE ts_start >= TIMESTAMP '\(Timestamp.format(from, separator: " ", zulu: false))'
              AND ts_start < TIMESTAMP '\(Timestamp.format(to, separator: " ", zulu: false))' AND cost_usd > 0 GROUP BY g
            """
        var out: [String: Int64] = [:]
        for row in try QueryEngine(directory: directory, now: now).collect(sql).rows {
            guard row.count == 2, case .string(let g) = row[0], case .double(let c) = row[1] else { continue }
            out[g] = Money.nanos(c)
        }
        return out
    }

    func budgetLevels(name: String?, thresholds: [Int]) -> [AlertInstance] {
        budgets().filter { name == nil || $0.name == name }.compactMap { b in
            guard b.amountNanos > 0 else { return nil }
            let percent = Double(b.spentNanos) / Double(b.amountNanos) * 100
            guard let crossed = thresholds.last(where: { Double($0) <= percent }) else { return nil }
            return AlertInstance(
                key: b.name, state: "\(crossed)%",
                summary: "budget '\(b.name)' is \(Int(percent.rounded(.down)))% spent: \(Money.format(b.spentNanos)) of \(Money.format(b.amountNanos)) USD",
                figures: ["budget": .string(b.name), "spent_usd": .string(Money.format(b.spentNanos)),
                          "amount_usd": .string(Money.format(b.amountNanos)), "threshold_percent": .int(Int64(crossed))])
        }
    }

    /// Each row is an instance keyed by its first column (at most `maxInstances` are kept).
    func query(_ sql: String, now: Int64) throws -> [AlertInstance] {
        var engine = QueryEngine(directory: directory, now: now)
        engine.deadline = QueryDeadline(seconds: 30)
        let result = try engine.collect(sql)
        return result.rows.prefix(Self.maxInstances).map { row in
            let texts = row.map(Self.text)
            var figures: [String: JSONValue] = [:]
            for (n, t) in zip(result.names, texts) { figures[n] = .string(t) }
            let shown = zip(result.names, texts).map { "\($0) = \($1)" }.joined(separator: ", ")
            return AlertInstance(key: texts.first ?? "row", state: "firing", summary: shown, figures: figures, query: sql)
        }
    }

    static func text(_ v: Value) -> String {
        switch v {
        case .null: "NULL"
        case .string(let s): s
        case .int(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        case .double(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .timestamp(let t): Timestamp.format(t)
        default: "\(v)"
        }
    }

    static func duration(_ micros: Int64) -> String {
        micros % 86_400_000_000 == 0 ? "\(micros / 86_400_000_000)d" : micros % 3_600_000_000 == 0 ? "\(micros / 3_600_000_000)h"
            : micros % 60_000_000 == 0 ? "\(micros / 60_000_000)m" : "\(micros / 1_000_000)s"
    }
}
