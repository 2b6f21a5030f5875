import PlumbCore
import PlumbQuery

/// The spans behind a drilled-into row, newest first, one line each.
struct SpanList {
    var drill: Drill
    var result: QueryResult
    var selection = 0
    var scroll = 0

    static let limit = 500
    static let columns = "ts_end, status, provider, coalesce(model, model_requested) AS model, round(latency_ms) AS ms, "
        + "round(ttft_ms) AS ttft_ms, input_tokens AS inp, output_tokens AS out, cost_usd, user_id, span_id"

    /// The query that lists the spans.
    static func query(_ drill: Drill, range: String, filter: String?) -> String {
        var cond = "(\(drill.condition))"
        if drill.withinRange { cond = Template.expand("$range", range: range, filter: filter) + " AND " + cond }
        return "SELECT \(columns) FROM spans WHERE \(cond) ORDER BY ts_end DESC, span_id LIMIT \(limit)"
    }

    static func load(_ drill: Drill, engine: QueryEngine, range: String, filter: String?) throws -> SpanList {
        SpanList(drill: drill, result: try engine.collect(query(drill, range: range, filter: filter)))
    }

    var spanIds: [String] {
        guard let k = result.names.firstIndex(of: "span_id") else { return [] }
        return result.rows.map { ValueText.plain($0[k]) ?? "" }
    }

    /// Heading, column names and one line per span, the selected one marked.
    func lines(width: Int, height: Int) -> (lines: [StyledLine], scroll: Int) {
        let n = result.rowCount
        var head = StyledLine("Spans · \(drill.title)", .title)
        head.append("  \(formatCount(n))\(n == Self.limit ? "+" : "") shown, newest first · Enter: open · Esc: back", .dim)
        let panel = Dashboard.Panel(title: "", query: "", visual: .table, unit: "", warn: nil, crit: nil, row: 0, width: 1, height: n + 1)
        var table = PanelText.table(panel, result, width: width, shortTimes: true)
        let room = max(1, height - 2)
        var top = scroll
        if selection < top { top = selection }
        if selection >= top + room { top = selection - room + 1 }
        if n > 0 { table[1 + selection] = table[1 + selection].restyled(.selected) }
        let body = n == 0 ? [StyledLine("(no spans)", .dim)] : Array(table[1...].dropFirst(top).prefix(room))
        return ([head, table[0]] + body, top)
    }
}
