import PlumbCore
import PlumbQuery

/// One span: every column, its properties, and both bodies re-indented, scrollable.
struct SpanDetail {
    var spanId: String
    var text: [StyledLine]
    var scroll = 0

    static func load(_ spanId: String, engine: QueryEngine) throws -> SpanDetail {
        let r = try engine.collect("SELECT *, request_body, response_body FROM spans WHERE span_id = \(Drill.literal(.string(spanId)))")
        guard let row = r.rows.first else { return SpanDetail(spanId: spanId, text: [StyledLine("span \(spanId) not found", .crit)]) }
        var out: [StyledLine] = []
        let wide = r.names.filter { !["properties", "request_body", "response_body"].contains($0) }.map(\.count).max() ?? 0
        for (k, name) in r.names.enumerated() where !["properties", "request_body", "response_body"].contains(name) {
            var l = StyledLine(name.padding(toLength: wide + 2, withPad: " ", startingAt: 0), .heading)
            let v = row[k]
            let style: Style = name == "status" ? ((v.asDouble ?? 0) >= 500 ? .crit : ((v.asDouble ?? 0) >= 400 ? .warn : .ok)) : .plain
            l.append(ValueText.plain(v) ?? "NULL", v == .null ? .dim : style)
            out.append(l)
        }
        if let k = r.names.firstIndex(of: "properties") {
            out.append(StyledLine())
            out.append(StyledLine("properties", .title))
            if case .map(let m) = row[k], !m.isEmpty {
                for key in m.keys.sorted() {
                    var l = StyledLine("  " + key + "  ", .heading)
                    l.append(m[key] ?? "")
                    out.append(l)
                }
            } else { out.append(StyledLine("  (none)", .dim)) }
        }
        for name in ["request_body", "response_body"] {
            guard let k = r.names.firstIndex(of: name) else { continue }
            out.append(StyledLine())
            out.append(StyledLine(name == "request_body" ? "request body" : "response body", .title))
            if case .string(let body) = row[k] {
                out += JSONPretty.body(body).map { StyledLine("  " + $0) }
            } else { out.append(StyledLine("  (not stored)", .dim)) }
        }
        return SpanDetail(spanId: spanId, text: out)
    }

    /// The text wrapped to the width, from the scroll position.
    func lines(width: Int, height: Int) -> (lines: [StyledLine], scroll: Int) {
        var wrapped: [StyledLine] = []
        for l in text {
            guard DisplayWidth.of(l.text) > width else { wrapped.append(l); continue }
            var rest = l
            while DisplayWidth.of(rest.text) > width {
                var piece = StyledLine(), used = 0, remainder = StyledLine()
                for run in rest.runs {
                    if used >= width { remainder.append(run.text, run.style); continue }
                    let cut = DisplayWidth.prefix(run.text, fitting: width - used)
                    piece.append(cut, run.style); used += DisplayWidth.of(cut)
                    remainder.append(String(run.text.unicodeScalars.dropFirst(cut.unicodeScalars.count)), run.style)
                    if cut.isEmpty { used = width }
                }
                wrapped.append(piece)
                rest = StyledLine("    ")
                rest.append(remainder)
            }
            wrapped.append(rest)
        }
        var head = StyledLine("Span \(spanId)", .title)
        head.append("  j/k, PgUp/PgDn: scroll · Esc: back", .dim)
        let room = max(1, height - 1)
        let top = max(0, min(scroll, wrapped.count - room))
        return ([head] + wrapped.dropFirst(top).prefix(room), top)
    }
}
