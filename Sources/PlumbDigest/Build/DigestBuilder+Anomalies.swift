import PlumbCore
import PlumbQuery

extension DigestBuilder {
    /// The dimensions anomalies are looked for in, and the expression of each.
    static let anomalyDimensions = [("user", "user_id"), ("key", "api_key_hash"), ("model", "coalesce(model, model_requested)")]

    /// Spend per value of `expr`, averaged per period over the period's trailing window.
    func baselineSpend(_ expr: String, _ p: DigestPeriod) throws -> [String: Double] {
        var before: [String: Double] = [:]
        for r in try rows("""
            SELECT \(expr), coalesce(sum(cost_usd), 0) FROM spans
            WHERE \(DigestPeriod.condition(p.baseline.start, p.baseline.end)) AND \(expr) IS NOT NULL GROUP BY 1
            """) {
            before[Self.text(r[0])] = Self.double(r[1]) / Double(p.baselinePeriods)
        }
        return before
    }

    /// Users, keys and models (`now`: the period's breakdowns, `before`: their `baselineSpend`s,
    /// in the order of `anomalyDimensions`) spending at least `anomalyMultiple` times their own
    /// average per period over the trailing window (and at least `anomalyMinimumUSD`);
    /// newcomers are listed apart (`firstSeen`), not here.
    func anomalies(_ p: DigestPeriod, now: [[Digest.Breakdown.Row]], before: [[String: Double]], new: Set<String>) -> [Digest.Anomaly] {
        var out: [Digest.Anomaly] = []
        for ((dimension, _), (rowsNow, before)) in zip(Self.anomalyDimensions, zip(now, before)) {
            for r in rowsNow where r.label != "(none)" && r.spend >= anomalyMinimumUSD && !new.contains(r.label) {
                let avg = before[r.label] ?? 0
                if avg == 0 || r.spend >= anomalyMultiple * avg {
                    out.append(Digest.Anomaly(dimension: dimension, label: r.label, spend: r.spend, baseline: avg))
                }
            }
        }
        return out.sorted { ($0.spend - $0.baseline) > ($1.spend - $1.baseline) }
    }

    /// Values of `expr` seen in the period and never before it, with when they first appeared.
    func firstSeen(_ expr: String, _ p: DigestPeriod) throws -> [(label: String, first: Int64)] {
        try rows("""
            SELECT \(expr) AS v, min(ts_start) FROM spans WHERE ts_start < TIMESTAMP '\(Timestamp.format(p.end))' AND \(expr) IS NOT NULL
            GROUP BY 1 HAVING min(ts_start) >= TIMESTAMP '\(Timestamp.format(p.start))' ORDER BY 2, 1
            """).map { r in
            var first: Int64 = 0
            if case .timestamp(let t) = r[1] { first = t }
            return (Self.text(r[0]), first)
        }
    }

    /// First appearances with their requests and spend in the period (from `period`, the
    /// period's full breakdown).
    func attach(_ first: [(label: String, first: Int64)], _ period: [Digest.Breakdown.Row]) -> [Digest.FirstSeen] {
        let byLabel = Dictionary(period.map { ($0.label, $0) }, uniquingKeysWith: { a, _ in a })
        return first.map { f in
            Digest.FirstSeen(label: f.label, firstSeen: f.first, requests: byLabel[f.label]?.requests ?? 0, spend: byLabel[f.label]?.spend ?? 0)
        }
    }
}
