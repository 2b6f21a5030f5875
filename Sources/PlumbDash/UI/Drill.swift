import PlumbCore
import PlumbQuery

/// Which spans stand behind a panel's row: a WHERE condition for the span list, and whether
/// the dashboard's time range and filter still apply (an incident carries its own window).
///
/// A panel's `drill` key is a condition with `$1`, `$2`, … for the selected row's columns as SQL
/// literals (`coalesce(model, model_requested, '(none)') = $1`). Without one, each column named
/// like a span column (`provider`, `model`, `status`, …) must equal the row's value.
///
/// ```swift
/// Drill.condition(panel, names: ["provider", "spend"], row: [.string("openai"), .double(1.5)])
/// // "provider = 'openai'"
/// ```
public struct Drill: Sendable, Equatable {
    public var condition: String
    public var withinRange: Bool
    /// What the span list says it shows.
    public var title: String

    public static func of(_ p: Dashboard.Panel, names: [String], row: [Value]?) -> Drill {
        if p.visual == .incidents, let row {
            func col(_ n: String) -> Value { names.firstIndex(of: n).map { row[$0] } ?? .null }
            guard case .string(let provider) = col("provider"), case .timestamp(let start) = col("start") else {
                return Drill(condition: "FALSE", withinRange: true, title: p.title)
            }
            var model: String?
            if case .string(let m) = col("model") { model = m }
            var end: Int64?
            if case .timestamp(let e) = col("end") { end = e }
            let cond = Incident.condition(provider: provider, model: model, start: start, end: end)
            return Drill(condition: cond, withinRange: false, title: "incident: \(provider)" + (model.map { " \($0)" } ?? ""))
        }
        guard let row else { return Drill(condition: p.drill ?? "TRUE", withinRange: true, title: p.title) }
        let label = row.first.flatMap(ValueText.plain) ?? "NULL"
        if let template = p.drill {
            var cond = template
            // Highest first, so `$1` does not eat the start of `$10`.
            for k in row.indices.reversed() { cond = cond.replacingOccurrences(of: "$\(k + 1)", with: literal(row[k])) }
            return Drill(condition: cond, withinRange: true, title: "\(p.title): \(label)")
        }
        let schema = Set(SpanSchema.columns.map(\.name)).subtracting(["properties", "request_body", "response_body"])
        let terms = zip(names, row).filter { schema.contains($0.0) }.map { name, v in
            v == .null ? "\(name) IS NULL" : "\(name) = \(literal(v))"
        }
        return Drill(condition: terms.isEmpty ? "TRUE" : terms.joined(separator: " AND "), withinRange: true,
                     title: "\(p.title): \(label)")
    }

    /// A value as an SQL literal of the query dialect.
    public static func literal(_ v: Value) -> String {
        switch v {
        case .null: return "NULL"
        case .bool(let b): return b ? "TRUE" : "FALSE"
        case .int(let i): return String(i)
        case .double(let d): return NumberText.double(d)
        case .string(let s): return quote(s)
        case .timestamp(let t): return "TIMESTAMP " + quote(Timestamp.format(t))
        case .interval(let i): return "INTERVAL " + quote(i.text)
        case .map: return quote(ValueText.plain(v) ?? "")
        }
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
}
