import PlumbCore

/// An alert message: a rule's event about one instance, as the JSON a webhook receives
/// (kept in the catalog's outbox until sent), and as Slack and mail render it.
///
/// ```json
/// {"plumb_alert":{"rule":"down","kind":"incident","event":"open","instance":"openai","state":"outage",
///  "previous_state":null,"summary":"outage on openai since …","figures":{…},"query":"SELECT * FROM spans WHERE …",
///  "at":"2026-12-07T10:00:00.000000Z"}}
/// ```
public struct AlertEvent: Sendable, Equatable {
    public var rule: String
    public var kind: String
    /// open, change, resolve, or test.
    public var event: String
    public var instance: AlertInstance
    public var previousState: String?
    public var at: Int64

    public init(rule: String, kind: String, event: String, instance: AlertInstance, previousState: String?, at: Int64) {
        self.rule = rule; self.kind = kind; self.event = event; self.instance = instance; self.previousState = previousState; self.at = at
    }

    public var json: String {
        var w = JSONWriter()
        w.value(.object(["plumb_alert": .object([
            "rule": .string(rule), "kind": .string(kind), "event": .string(event), "instance": .string(instance.key),
            "state": .string(instance.state), "previous_state": previousState.map { .string($0) } ?? .null,
            "summary": .string(instance.summary), "figures": .object(instance.figures),
            "query": instance.query.map { .string($0) } ?? .null, "at": .string(Timestamp.format(at)),
        ])]))
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// Reads back what `json` wrote (from the outbox).
    public static func parse(_ text: String) -> AlertEvent? {
        guard case .object(let o)? = try? JSONParser.parse(Array(text.utf8)), case .object(let a)? = o["plumb_alert"],
              let rule = a["rule"]?.stringValue, let kind = a["kind"]?.stringValue, let event = a["event"]?.stringValue,
              let key = a["instance"]?.stringValue, let state = a["state"]?.stringValue, let summary = a["summary"]?.stringValue,
              let atText = a["at"]?.stringValue, let at = try? Timestamp.parse(atText) else { return nil }
        var figures: [String: JSONValue] = [:]
        if case .object(let f)? = a["figures"] { figures = f }
        return AlertEvent(rule: rule, kind: kind, event: event,
                          instance: AlertInstance(key: key, state: state, summary: summary, figures: figures, query: a["query"]?.stringValue),
                          previousState: a["previous_state"]?.stringValue, at: at)
    }

    /// One line: `[plumb] OPEN down: outage on openai since …`.
    public var headline: String {
        let word = switch event {
        case "open": "OPEN"
        case "change": "CHANGED (\(previousState ?? "?") → \(instance.state))"
        case "resolve": "RESOLVED"
        default: "TEST"
        }
        return "[plumb] \(word) \(rule): \(instance.summary)"
    }

    /// A Slack incoming-webhook message: `text` (the notification) and blocks.
    public var slack: String {
        var fields: [JSONValue] = [.object(["type": .string("mrkdwn"), "text": .string("*Rule*\n\(rule) (\(kind))")]),
                                   .object(["type": .string("mrkdwn"), "text": .string("*State*\n\(instance.state)")])]
        for (k, v) in instance.figures.sorted(by: { $0.key < $1.key }).prefix(8) {
            let value: String = switch v {
            case .string(let s): s
            case .int(let i): String(i)
            case .double(let d): String(format: "%.6g", d)
            case .null: "—"
            default: "\(v)"
            }
            fields.append(.object(["type": .string("mrkdwn"), "text": .string("*\(k)*\n\(value)")]))
        }
        var blocks: [JSONValue] = [
            .object(["type": .string("section"), "text": .object(["type": .string("mrkdwn"), "text": .string(Self.slackEscaped(headline))])]),
            .object(["type": .string("section"), "fields": .array(fields)]),
        ]
        if let q = instance.query {
            blocks.append(.object(["type": .string("section"), "text": .object(["type": .string("mrkdwn"), "text": .string("```" + q + "```")])]))
        }
        var w = JSONWriter()
        w.value(.object(["text": .string(headline), "blocks": .array(blocks)]))
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// Slack's mrkdwn: `&`, `<` and `>` escaped.
    static func slackEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The mail body (plain text).
    public var text: String {
        var lines = [headline, "", "rule: \(rule) (\(kind))", "instance: \(instance.key)", "state: \(instance.state)"]
        if let p = previousState { lines.append("previous state: \(p)") }
        lines.append("at: \(Timestamp.format(at))")
        for (k, v) in instance.figures.sorted(by: { $0.key < $1.key }) {
            var w = JSONWriter(); w.value(v)
            lines.append("\(k): \(String(decoding: w.bytes, as: UTF8.self))")
        }
        if let q = instance.query { lines += ["", "its spans: plumb query \"\(q.replacingOccurrences(of: "\"", with: "\\\""))\""] }
        return lines.joined(separator: "\n") + "\n"
    }
}
