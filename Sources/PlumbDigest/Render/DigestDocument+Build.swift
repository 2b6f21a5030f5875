import PlumbCore
import PlumbQuery

extension DigestDocument {
    init(_ d: Digest) {
        let p = d.period
        let what = p.kind == .day ? "the previous day" : "the previous week"
        let avg = p.kind == .day ? "the 7-day average" : "the 4-week average"
        title = "Plumb spend digest · \(p.label)"
        subtitle = "\(p.kind == .day ? "Day" : "Week") from \(Self.time(p.start)) to \(Self.time(p.end)) (\(p.timezone))"
        var s: [Section] = []
        guard !d.isEmpty else {
            sections = [Section(title: "Summary", blocks: [
                .note("No requests in this period."),
                .figures([("Spend", Self.money(0), d.previousSpend > 0 ? "\(Self.money(d.previousSpend)) in \(what)" : nil),
                          ("Requests", "0", d.previousRequests > 0 ? "\(Self.count(d.previousRequests)) in \(what)" : nil)]),
            ])]
            return
        }
        s.append(Section(title: "Summary", blocks: [.figures([
            ("Spend", Self.money(d.spend), Self.change(d.spend, d.previousSpend, what) + "; " + Self.change(d.spend, d.baselineSpend, avg)),
            ("Requests", Self.count(d.requests), Self.change(Double(d.requests), Double(d.previousRequests), what)),
            ("Errors", Self.percent(d.errorRate, digits: 2), "\(Self.count(d.failed)) failed requests"),
            ("Tokens", "\(Self.count(d.tokens.input)) in · \(Self.count(d.tokens.output)) out",
             "cache read \(Self.count(d.tokens.cacheRead)), cache write \(Self.count(d.tokens.cacheWrite)), reasoning \(Self.count(d.tokens.reasoning))"),
            ("Cache savings", Self.money(d.cacheSavings), "what cached input tokens saved against the full input price"),
            ("Incidents", String(d.incidents.count), nil),
        ])]))
        if !d.anomalies.isEmpty || !d.newModels.isEmpty || !d.newKeys.isEmpty {
            var blocks: [Block] = []
            if !d.anomalies.isEmpty {
                blocks.append(.table(Table(headers: ["", "who", "spend", "usual"], rows: d.anomalies.map {
                    [$0.dimension, $0.label, Self.money($0.spend), $0.baseline == 0 ? "nothing" : Self.money($0.baseline)]
                }, numeric: [2, 3])))
            }
            for (name, list) in [("New models", d.newModels), ("New API keys", d.newKeys)] where !list.isEmpty {
                blocks.append(.note(name + ":"))
                blocks.append(.table(Table(headers: ["", "first seen", "requests", "spend"], rows: list.map {
                    [$0.label, Self.time($0.firstSeen), Self.count($0.requests), Self.money($0.spend)]
                }, numeric: [2, 3])))
            }
            s.append(Section(title: "Anomalies", blocks: blocks))
        }
        for (title, rows) in [("By provider", d.byProvider), ("By model", d.byModel), ("By user", d.byUser), ("By API key", d.byKey)] {
            s.append(Section(title: title, blocks: [.table(Self.breakdown(rows, total: d.spend))]))
        }
        for (key, rows) in d.byProperty {
            s.append(Section(title: "By property \(key)", blocks: [.table(Self.breakdown(rows, total: d.spend))]))
        }
        var health: [Block] = []
        if d.incidents.isEmpty { health.append(.note("No incidents.")) } else {
            health.append(.table(Table(headers: ["provider", "model", "kind", "start", "end", "peak errors", "affected", "failed cost"],
                                       rows: d.incidents.map { i in
                [i.provider, i.model ?? "all", i.kind.rawValue, Self.time(i.start), i.ongoing ? "ongoing" : Self.time(i.end),
                 Self.percent(i.peakErrorRate), Self.count(i.affected), Self.money(i.failedCostUSD)]
            }, numeric: [5, 6, 7])))
        }
        health.append(.table(Table(headers: ["provider", "requests", "p50", "p95", "TTFT p50", "TTFT p95"], rows: d.latency.map { l in
            [l.provider, Self.count(l.requests), Self.ms(l.p50), Self.ms(l.p95), Self.ms(l.ttftP50), Self.ms(l.ttftP95)]
        }, numeric: [1, 2, 3, 4, 5])))
        s.append(Section(title: "Reliability and latency", blocks: health))
        if !d.unpriced.isEmpty {
            s.append(Section(title: "Models without a price", blocks: [
                .note("Spend above leaves these out: it is incomplete by their calls."),
                .table(Table(headers: ["provider", "model", "requests"], rows: d.unpriced.map { [$0.provider, $0.model, Self.count($0.requests)] },
                             numeric: [2])),
            ]))
        }
        sections = s
    }

    static func breakdown(_ rows: [Digest.Breakdown.Row], total: Double) -> Table {
        let top = rows.filter { !$0.isOthers }.map(\.spend).max() ?? 0
        return Table(headers: ["", "spend", "share", "requests", "tokens in", "tokens out"], rows: rows.map { r in
            [r.label, money(r.spend), total > 0 ? percent(r.spend / total) : "–", count(r.requests), count(r.inputTokens), count(r.outputTokens)]
        }, numeric: [1, 2, 3, 4, 5], bars: rows.map { top > 0 && !$0.isOthers ? max(0, $0.spend / top) : 0 })
    }
}
