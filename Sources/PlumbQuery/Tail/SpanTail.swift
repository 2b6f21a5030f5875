import PlumbCore

/// Spans as they land, for `plumb tail`: each poll asks for spans whose response ended since a
/// little before the last poll (a span becomes visible a moment after it ends) and returns those
/// not seen yet, oldest first.
///
/// ```swift
/// var tail = try SpanTail(engine: engine, filter: "status >= 500")
/// for line in try tail.poll() { print(line.text(color: true)) }
/// ```
public struct SpanTail {
    public let engine: QueryEngine
    let filter: String?
    /// Spans already shown, with the time their response ended (forgotten after the overlap).
    var seen: [String: Int64] = [:]
    var since: Int64
    /// How far back each poll looks past the newest end already seen: a span becomes visible
    /// within about 2 s of its end locally; over ClickHouse each proxy's exporter adds its own
    /// lag (a second or so, more while a receiver retries), so the fleet looks a minute back.
    var overlap: Int64 = 10_000_000

    public struct Line: Sendable, Equatable {
        public var spanID: String
        public var tsEnd: Int64
        public var status: Int64
        public var provider: String
        public var model: String?
        public var latencyMs: Double
        public var inputTokens: Int64?
        public var outputTokens: Int64?
        public var costUSD: Double?
        public var userID: String?
        public var errorType: String?
    }

    static let columns = "span_id, ts_end, status, provider, coalesce(model, model_requested), latency_ms, input_tokens, output_tokens, cost_usd, user_id, error_type"

    /// `filter`: a WHERE expression of the query dialect, checked now (a bad one throws a
    /// `QueryError` whose position is in `filter` itself). `from`: show spans ending after this.
    public init(engine: QueryEngine, filter: String?, from: Int64) throws {
        self.engine = engine
        self.filter = filter
        since = from
        if engine.clickhouse != nil { overlap = 60_000_000 }
        if let filter {
            let prefix = "SELECT span_id FROM spans WHERE ("
            do { _ = try engine.bind(prefix + filter + ")") } catch let e as QueryError {
                throw QueryError(e.message, at: e.offset.map { max(0, min($0 - prefix.utf8.count, filter.utf8.count)) }, hint: e.hint)
            }
        }
    }

    public mutating func poll() throws -> [Line] {
        var sql = "SELECT \(Self.columns) FROM spans WHERE ts_end > '\(Timestamp.format(since - overlap))'"
        if let filter { sql += " AND (\(filter))" }
        sql += " ORDER BY ts_end, span_id"
        var out: [Line] = []
        for r in try engine.collect(sql).rows {
            guard case .string(let id) = r[0], case .timestamp(let end) = r[1], seen[id] == nil else { continue }
            func int(_ v: Value) -> Int64? { if case .int(let i) = v { return i }; return nil }
            func dbl(_ v: Value) -> Double? { if case .double(let d) = v { return d }; return nil }
            func str(_ v: Value) -> String? { if case .string(let s) = v { return s }; return nil }
            out.append(Line(spanID: id, tsEnd: end, status: int(r[2]) ?? 0, provider: str(r[3]) ?? "", model: str(r[4]),
                            latencyMs: dbl(r[5]) ?? 0, inputTokens: int(r[6]), outputTokens: int(r[7]), costUSD: dbl(r[8]),
                            userID: str(r[9]), errorType: str(r[10])))
            seen[id] = end
            since = max(since, end)
        }
        let horizon = since - 2 * overlap
        seen = seen.filter { $0.value >= horizon }
        return out
    }
}

extension SpanTail.Line {
    /// One line: time, status, provider/model, latency, tokens, cost, user, error, span id;
    /// coloured by status class when `color` (green 2xx, yellow 4xx, red 5xx and failures).
    public func text(color: Bool) -> String {
        let cost = costUSD.map { "$" + NumberText.double(($0 * 1e6).rounded() / 1e6) } ?? "-"
        let tokens = "in \(inputTokens.map(String.init) ?? "-") out \(outputTokens.map(String.init) ?? "-")"
        var s = Timestamp.format(tsEnd) + "  " + String(status) + "  " + provider + "/" + (model ?? "?")
        s += "  " + String(Int(latencyMs.rounded())) + " ms  " + tokens + "  " + cost
        if let userID { s += "  " + userID }
        if let errorType { s += "  " + errorType }
        s += "  " + spanID
        guard color else { return s }
        let code = status >= 500 || (status == 0 && errorType != nil) ? "31" : (status >= 400 ? "33" : (status >= 200 && status < 300 ? "32" : "0"))
        return "\u{1B}[\(code)m" + s + "\u{1B}[0m"
    }
}
