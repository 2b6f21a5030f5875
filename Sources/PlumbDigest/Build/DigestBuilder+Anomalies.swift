import PlumbCore
import PlumbQuery

extension DigestBuilder {
    /// Users, keys and models spending at least `anomalyMultiple` times their own average per
    /// period over the trailing window (and at least `anomalyMinimumUSD`); newcomers are listed
    /// apart (`firstSeen`), not here.
    func anomalies(_ p: DigestPeriod, models: [Digest.Breakdown.Row], users: [Digest.Breakdown.Row],
                   keys: [Digest.Breakdown.Row], new: Set<String>) throws -> [Digest.Anomaly] {
        let base = p.baseline
        var out: [Digest.Anomaly] = []
        for (dimension, expr, rowsNow) in [("user", "user_id", users), ("key", "api_key_hash", keys),
                                           ("model", "coalesce(model, model_requested)", models)] {
            let candidates = rowsNow.filter { $0.label != "(none)" && $0.spend >= anomalyMinimumUSD && !new.contains($0.label) }
            guard !candidates.isEmpty else { continue }
            var before: [String: Double] = [:]
            for r in try rows("""
                SELECT \(expr), coalesce(sum(cost_usd), 0) FROM spans
                WHERE \(DigestPeriod.condition(base.start, base.end)) AND \(expr) IS NOT NULL GROUP BY 1
                """) {
                before[Self.text(r[0])] = Self.double(r[1]) / Double(p.baselinePeriods)
            }
            for r in candidates {
                let avg = before[r.label] ?? 0
                if avg == 0 || r.spend >= anomalyMultiple * avg {
                    out.append(Digest.Anomaly(dimension: dimension, label: r.label, spend: r.spend, baseline: avg))
                }
            }
        }
        return out.sorted { ($0.spend - $0.baseline) > ($1.spend - $1.baseline) }
    }

    /// Values of `expr` seen in the period and never before it, with their requests and spend
    /// in the period (from `period`, the period's full breakdown).
    func firstSeen(_ expr: String, _ p: DigestPeriod, _ period: [Digest.Breakdown.Row]) throws -> [Digest.FirstSeen] {
        let byLabel = Dictionary(period.map { ($0.label, $0) }, uniquingKeysWith: { a, _ in a })
        return try rows("""
            SELECT \(expr) AS v, min(ts_start) FROM spans WHERE ts_start < TIMESTAMP '\(Timestamp.format(p.end))' AND \(expr) IS NOT NULL
            GROUP BY 1 HAVING min(ts_start) >= TIMESTAMP '\(Timestamp.format(p.start))' ORDER BY 2, 1
            """).map { r in
            let label = Self.text(r[0])
            var first: Int64 = 0
            if case .timestamp(let t) = r[1] { first = t }
            return Digest.FirstSeen(label: label, firstSeen: first, requests: byLabel[label]?.requests ?? 0, spend: byLabel[label]?.spend ?? 0)
        }
    }
}
