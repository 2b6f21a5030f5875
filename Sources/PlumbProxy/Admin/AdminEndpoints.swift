import NIOCore
import NIOHTTP1
import NIOPosix
import PlumbCore
import PlumbExport
import PlumbStore

/// What an admin endpoint answers.
struct AdminReply: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: String
}

/// Plumb's own endpoints under `/_plumb/`: `health`, `metrics` (Prometheus text), `spans/<id>`
/// (one span as JSON, bodies included) and `query`. Each answers only to a `Host` naming this
/// server; on loopback they are open otherwise, and beyond it each needs
/// `Authorization: Bearer <admin_token>` (both checked from the head: `refusal`).
struct AdminEndpoints {
    let core: ProxyCore

    /// Whether a request may reach `/_plumb/` at all, from its head: its `Host` must name this
    /// server (an IP literal, `localhost`, the listen host, or one of `admin_hosts`), so that a web
    /// page whose name was rebound to this address cannot read spans or run queries; beyond
    /// loopback it must also carry the admin token.
    static func refusal(settings: ProxySettings, host: String?, authorization: String?) -> ProxyFailure? {
        guard let host, isOwnName(host, settings: settings) else { return .forbiddenHost(host) }
        if !settings.listen.isLoopback {
            let token = settings.adminToken ?? ""
            guard !token.isEmpty, ProxyCore.constantTimeEqual("Bearer " + token, authorization ?? "") else { return .adminUnauthorized }
        }
        return nil
    }

    /// `host[:port]` or `[v6]:port` names this server: the listen host; an IP address the listener
    /// takes (any, for `0.0.0.0`/`::`; a loopback one, for a loopback listener); `localhost` on a
    /// loopback or wildcard listener; or a name in `admin_hosts`. A rebinding page always sends a
    /// name of its own, never one of these.
    static func isOwnName(_ hostHeader: String, settings: ProxySettings) -> Bool {
        let h = hostHeader.trimmingSpaces()
        let name: Substring
        if h.hasPrefix("[") {
            guard let close = h.firstIndex(of: "]") else { return false }
            name = h[h.index(after: h.startIndex)..<close]
        } else {
            name = h.prefix { $0 != ":" }
        }
        let lower = name.lowercased()
        let listen = settings.listen
        if lower.isEmpty { return false }
        if lower == listen.host.lowercased() || settings.adminHosts.contains(lower) { return true }
        if let ip = LoopbackAddress.bytes(ofLiteral: lower) {
            if listen.isWildcard { return true }
            if listen.isLoopback { return LoopbackAddress.isLoopback(bytes: ip) }
            return LoopbackAddress.bytes(ofLiteral: listen.host) == ip
        }
        return lower == "localhost" && (listen.isLoopback || listen.isWildcard)
    }

    /// `/query` streams its answer instead (`QueryResponseStream`).
    static func isQuery(_ path: String) -> Bool { path == "/query" || path == "/query/" }

    var queryEndpoint: QueryEndpoint {
        QueryEndpoint(directory: core.store.directory, timeoutSeconds: core.settings.queryTimeout,
                      maxResultBytes: core.settings.queryMaxResultBytes)
    }

    func respond(path: String, method: HTTPMethod, on loop: EventLoop) -> EventLoopFuture<AdminReply> {
        guard method == .GET || method == .HEAD else {
            return loop.makeSucceededFuture(error(.methodNotAllowed, "method_not_allowed", "/_plumb\(path) answers GET only"))
        }
        if path.hasPrefix("/spans/") {
            // Reading segments touches the disk: off the event loop.
            let id = String(path.dropFirst("/spans/".count))
            return NIOThreadPool.singleton.runIfActive(eventLoop: loop) { [self] in span(id) }
        }
        if path == "/metrics" || path == "/metrics/" {
            // A page of a thousand series takes a while to write: off the event loop, and the
            // same page for a second (a scraper's burst costs one).
            return NIOThreadPool.singleton.runIfActive(eventLoop: loop) { [self] in
                let s = core.store.stats
                let view = StoreCountersView(appended: s.appended, dropped: s.dropped, errors: s.walErrors + s.publishErrors,
                                             publishedSeq: s.publishedSeq, exporters: core.exporters.map(\.stats),
                                             memory: core.memoryParts(store: s))
                let page = core.metrics.page(store: view) + core.controlMetrics() + (core.alerts?.metricsText() ?? "")
                return text(.ok, page, type: "text/plain; version=0.0.4; charset=utf-8")
            }
        }
        return loop.makeSucceededFuture(reply(path))
    }

    func reply(_ path: String) -> AdminReply {
        switch path {
        case "/health", "/health/":
            let stats = core.store.stats
            let healthy = stats.lastError == nil || stats.walErrors == 0 && stats.publishErrors == 0
            // An exporter that cannot deliver does not make the proxy unhealthy (a load balancer
            // would take it out of rotation for a collector's outage); it shows under "exporters".
            var body = #"{"status":"\#(healthy ? "ok" : "degraded")","spans_appended":\#(stats.appended),"spans_dropped":\#(stats.dropped),"pending":\#(stats.pending)"#
            if !core.exporters.isEmpty { body += #","exporters":"# + Self.exportersJSON(core.exporters.map(\.stats)) }
            return text(healthy ? .ok : .serviceUnavailable, body + "}", type: "application/json")
        default:
            return error(.notFound, "not_found", "no such Plumb endpoint: /_plumb\(path) (have: health, metrics, query, spans/<id>)")
        }
    }

    /// `{"otlp":{"spans_exported":…,"lag_seconds":…,…},…}` for `/_plumb/health`.
    static func exportersJSON(_ stats: [ExportStats]) -> String {
        var w = JSONWriter()
        w.raw("{")
        for (i, e) in stats.enumerated() {
            if i > 0 { w.raw(",") }
            w.string(e.name)
            w.raw(#":{"state":"#); w.string(e.retrying ? "retrying" : "ok")
            w.raw(#","spans_exported":"#); w.int(e.spansExported)
            w.raw(#","batches_failed":"#); w.int(e.batchesFailed)
            w.raw(#","batches_skipped":"#); w.int(e.batchesSkipped)
            w.raw(#","spans_lost":"#); w.int(e.spansLost)
            w.raw(#","lag_seconds":"#); w.double((e.lagSeconds * 1000).rounded() / 1000)
            w.raw(#","lag_spans":"#); w.int(e.lagSpans)
            w.raw(#","last_error":"#); if let m = e.lastError { w.string(m) } else { w.null() }
            w.raw("}")
        }
        w.raw("}")
        return String(decoding: w.bytes, as: UTF8.self)
    }

    func span(_ id: String) -> AdminReply {
        guard id.count == 32, id.utf8.allSatisfy({ Hex.nibble($0) != nil }) else {
            return error(.badRequest, "invalid_span_id", "a span id is 32 hex digits, got '\(ProxyFailure.shown(id))'")
        }
        if let s = core.recent.find(id.lowercased()) { return text(.ok, s.jsonLine(), type: "application/json") }
        // Older: in the published segments, first around the time a Plumb id encodes (UUIDv7
        // milliseconds), then anywhere (imported ids are random); span-id filters pick the row groups.
        if let reader = try? StoreReader(directory: core.store.directory) {
            let wanted = id.lowercased()
            var found: Span? = nil
            if let ms = SpanID.timestampMillis(of: wanted) {
                let t = Int64(ms) * 1000
                found = try? reader.span(id: wanted, includeBodies: true, from: t - 600_000_000, to: t + 600_000_000)
            }
            if found == nil { found = try? reader.span(id: wanted, includeBodies: true) }
            if let found { return text(.ok, found.jsonLine(), type: "application/json") }
        }
        return error(.notFound, "span_not_found", "no span with id \(id)")
    }

    func text(_ status: HTTPResponseStatus, _ body: String, type: String) -> AdminReply {
        AdminReply(status: status, contentType: type, body: body)
    }

    func error(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> AdminReply {
        Self.failure(status, code, message)
    }

    /// An OpenAI-style JSON error reply.
    static func failure(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> AdminReply {
        let b = ProxyFailure(status: status, errorType: code, message: message).body()
        return AdminReply(status: status, contentType: "application/json", body: String(buffer: b))
    }
}
