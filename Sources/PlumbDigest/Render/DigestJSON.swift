import PlumbCore
import PlumbQuery

/// The digest as JSON (`schemas/digest.schema.json`), keys in a fixed order; money in USD as
/// numbers, times as ISO 8601 UTC.
///
/// ```swift
/// let text = DigestJSON.render(digest)
/// ```
public enum DigestJSON {
    /// An ordered JSON value.
    indirect enum Node {
        case object([(String, Node)])
        case array([Node])
        case string(String)
        case number(Double)
        case int(Int64)
        case bool(Bool)
        case null

        static func optional(_ d: Double?) -> Node { d.map(Node.number) ?? .null }
        static func time(_ t: Int64) -> Node { .string(Timestamp.format(t)) }

        func write(_ w: inout JSONWriter, indent: Int) {
            let pad = String(repeating: "  ", count: indent + 1)
            let close = String(repeating: "  ", count: indent)
            switch self {
            case .object(let fields):
                guard !fields.isEmpty else { w.raw("{}"); return }
                w.raw("{\n")
                for (k, (key, v)) in fields.enumerated() {
                    w.raw(pad); w.string(key); w.raw(": ")
                    v.write(&w, indent: indent + 1)
                    w.raw(k + 1 < fields.count ? ",\n" : "\n")
                }
                w.raw(close + "}")
            case .array(let items):
                guard !items.isEmpty else { w.raw("[]"); return }
                w.raw("[\n")
                for (k, v) in items.enumerated() {
                    w.raw(pad)
                    v.write(&w, indent: indent + 1)
                    w.raw(k + 1 < items.count ? ",\n" : "\n")
                }
                w.raw(close + "]")
            case .string(let s): w.string(s)
            case .number(let d): if d.isFinite { w.double(d) } else { w.null() }
            case .int(let i): w.int(i)
            case .bool(let b): w.bool(b)
            case .null: w.null()
            }
        }
    }

    static func rows(_ rows: [Digest.Breakdown.Row]) -> Node {
        .array(rows.map { r in
            .object([("label", .string(r.label)), ("spend_usd", .number(r.spend)), ("requests", .int(r.requests)),
                     ("input_tokens", .int(r.inputTokens)), ("output_tokens", .int(r.outputTokens)), ("others", .bool(r.isOthers))])
        })
    }

    static func node(_ d: Digest) -> Node {
        let p = d.period
        return .object([
            ("schema", .string("plumb.digest.v1")),
            ("period", .object([("kind", .string(p.kind.rawValue)), ("label", .string(p.label)), ("first_day", .string(p.firstDay)),
                                ("timezone", .string(p.timezone)), ("start", .time(p.start)), ("end", .time(p.end))])),
            ("generated_at", .time(d.generatedAt)),
            ("spend", .object([("total_usd", .number(d.spend)), ("previous_usd", .number(d.previousSpend)),
                               ("trailing_average_usd", .number(d.baselineSpend)), ("trailing_periods", .int(Int64(p.baselinePeriods))),
                               ("cache_savings_usd", .number(d.cacheSavings))])),
            ("requests", .object([("total", .int(d.requests)), ("previous", .int(d.previousRequests)), ("failed", .int(d.failed)),
                                  ("error_rate", .number(d.errorRate))])),
            ("tokens", .object([("input", .int(d.tokens.input)), ("output", .int(d.tokens.output)), ("cache_read", .int(d.tokens.cacheRead)),
                                ("cache_write", .int(d.tokens.cacheWrite)), ("reasoning", .int(d.tokens.reasoning))])),
            ("by_provider", rows(d.byProvider)), ("by_model", rows(d.byModel)), ("by_user", rows(d.byUser)), ("by_api_key", rows(d.byKey)),
            ("by_property", .array(d.byProperty.map { .object([("key", .string($0.key)), ("rows", rows($0.rows))]) })),
            ("latency", .array(d.latency.map { l in
                .object([("provider", .string(l.provider)), ("requests", .int(l.requests)), ("p50_ms", .optional(l.p50)),
                         ("p95_ms", .optional(l.p95)), ("ttft_p50_ms", .optional(l.ttftP50)), ("ttft_p95_ms", .optional(l.ttftP95))])
            })),
            ("incidents", .array(d.incidents.map { i in
                .object([("provider", .string(i.provider)), ("model", i.model.map(Node.string) ?? .null), ("kind", .string(i.kind.rawValue)),
                         ("start", .time(i.start)), ("end", i.ongoing ? .null : .time(i.end)), ("peak_error_rate", .number(i.peakErrorRate)),
                         ("requests", .int(i.requests)), ("affected", .int(i.affected)), ("failed_cost_usd", .number(i.failedCostUSD)),
                         ("query", .string(i.query))])
            })),
            ("unpriced_models", .array(d.unpriced.map {
                .object([("provider", .string($0.provider)), ("model", .string($0.model)), ("requests", .int($0.requests))])
            })),
            ("anomalies", .array(d.anomalies.map {
                .object([("dimension", .string($0.dimension)), ("label", .string($0.label)), ("spend_usd", .number($0.spend)),
                         ("trailing_average_usd", .number($0.baseline))])
            })),
            ("new_models", .array(d.newModels.map(firstSeen))), ("new_api_keys", .array(d.newKeys.map(firstSeen))),
        ])
    }

    static func firstSeen(_ f: Digest.FirstSeen) -> Node {
        .object([("label", .string(f.label)), ("first_seen", .time(f.firstSeen)), ("requests", .int(f.requests)), ("spend_usd", .number(f.spend))])
    }

    public static func render(_ d: Digest) -> String {
        var w = JSONWriter()
        node(d).write(&w, indent: 0)
        w.raw("\n")
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
