import NIOCore
import NIOHTTP1
import NIOPosix
import PlumbCore
import PlumbStore

/// What an admin endpoint answers.
struct AdminReply {
    var status: HTTPResponseStatus
    var contentType: String
    var body: String
}

/// Plumb's own endpoints under `/_plumb/`: `health`, `metrics` (Prometheus text), `spans/<id>`
/// (one span as JSON, bodies included) and `query`. On loopback they are open; listening beyond
/// it, each needs `Authorization: Bearer <admin_token>`.
struct AdminEndpoints {
    let core: ProxyCore

    func respond(path: String, method: HTTPMethod, query: String?, body: [UInt8], authorization: String?,
                 on loop: EventLoop) -> EventLoopFuture<AdminReply> {
        if !core.settings.listen.isLoopback {
            let token = core.settings.adminToken ?? ""
            guard !token.isEmpty, ProxyCore.constantTimeEqual("Bearer " + token, authorization ?? "") else {
                return loop.makeSucceededFuture(error(.unauthorized, "unauthorized", "/_plumb/ needs Authorization: Bearer <admin_token>"))
            }
        }
        if path == "/query" || path == "/query/" {
            let endpoint = QueryEndpoint(directory: core.store.directory)
            return NIOThreadPool.singleton.runIfActive(eventLoop: loop) { endpoint.answer(method: method, query: query, body: body) }
        }
        if path.hasPrefix("/spans/") {
            // Reading segments touches the disk: off the event loop.
            let id = String(path.dropFirst("/spans/".count))
            return NIOThreadPool.singleton.runIfActive(eventLoop: loop) { [self] in span(id) }
        }
        return loop.makeSucceededFuture(reply(path))
    }

    func reply(_ path: String) -> AdminReply {
        switch path {
        case "/health", "/health/":
            let stats = core.store.stats
            let healthy = stats.lastError == nil || stats.walErrors == 0 && stats.publishErrors == 0
            return text(healthy ? .ok : .serviceUnavailable,
                        #"{"status":"\#(healthy ? "ok" : "degraded")","spans_appended":\#(stats.appended),"spans_dropped":\#(stats.dropped),"pending":\#(stats.pending)}"#,
                        type: "application/json")
        case "/metrics":
            let s = core.store.stats
            let view = StoreCountersView(appended: s.appended, dropped: s.dropped, errors: s.walErrors + s.publishErrors, publishedSeq: s.publishedSeq)
            return text(.ok, core.metrics.exposition(store: view), type: "text/plain; version=0.0.4; charset=utf-8")
        default:
            return error(.notFound, "not_found", "no such Plumb endpoint: /_plumb\(path) (have: health, metrics, query, spans/<id>)")
        }
    }

    func span(_ id: String) -> AdminReply {
        guard id.count == 32, id.utf8.allSatisfy({ Hex.nibble($0) != nil }) else {
            return error(.badRequest, "invalid_span_id", "a span id is 32 hex digits, got '\(id)'")
        }
        if let s = core.recent.find(id.lowercased()) { return text(.ok, s.jsonLine(), type: "application/json") }
        // Older: look in the published segments around the time the id encodes (UUIDv7 milliseconds).
        if let ms = SpanID.timestampMillis(of: id.lowercased()),
           let reader = try? StoreReader(directory: core.store.directory) {
            let t = Int64(ms) * 1000
            let wanted = id.lowercased()
            if let s = try? reader.spans(includeBodies: true, from: t - 600_000_000, to: t + 600_000_000,
                                         where: { $0.spanID == wanted }).first {
                return text(.ok, s.jsonLine(), type: "application/json")
            }
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
