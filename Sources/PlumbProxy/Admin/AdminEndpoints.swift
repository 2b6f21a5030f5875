import HTTPTypes
import Hummingbird
import PlumbCore
import PlumbStore

/// Plumb's own endpoints under `/_plumb/`: `health`, `metrics` (Prometheus text), `spans/<id>`
/// (one span as JSON, bodies included) and `query`. On loopback they are open; listening beyond
/// it, each needs `Authorization: Bearer <admin_token>`.
struct AdminEndpoints {
    let core: ProxyCore

    func respond(path: String, request: Request) async throws -> Response {
        if !core.settings.listen.isLoopback {
            let token = core.settings.adminToken ?? ""
            let presented = request.headers[.authorization] ?? ""
            guard !token.isEmpty, ProxyCore.constantTimeEqual("Bearer " + token, presented) else {
                return error(.unauthorized, "unauthorized", "/_plumb/ needs Authorization: Bearer <admin_token>")
            }
        }
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
        case "/query":
            return error(.notImplemented, "not_available", "the query engine is not available yet (issue #4); use plumb query when it lands")
        default:
            if path.hasPrefix("/spans/") {
                return span(String(path.dropFirst("/spans/".count)))
            }
            return error(.notFound, "not_found", "no such Plumb endpoint: /_plumb\(path) (have: health, metrics, query, spans/<id>)")
        }
    }

    func span(_ id: String) -> Response {
        guard id.count == 32, id.utf8.allSatisfy({ Hex.nibble($0) != nil }) else {
            return error(.badRequest, "invalid_span_id", "a span id is 32 hex digits, got '\(id)'")
        }
        if let s = core.recent.find(id.lowercased()) { return text(.ok, s.jsonLine(), type: "application/json") }
        // Older: look in the published segments around the time the id encodes (UUIDv7 milliseconds).
        if let ms = SpanID.timestampMillis(of: id.lowercased()),
           let reader = try? StoreReader(directory: core.store.directory) {
            let t = Int64(ms) * 1000
            if let spans = try? reader.spans(includeBodies: true, from: t - 600_000_000, to: t + 600_000_000),
               let s = spans.first(where: { $0.spanID == id.lowercased() }) {
                return text(.ok, s.jsonLine(), type: "application/json")
            }
        }
        return error(.notFound, "span_not_found", "no span with id \(id)")
    }

    func text(_ status: HTTPResponse.Status, _ body: String, type: String) -> Response {
        Response(status: status, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        ProxyFailure(status: status, errorType: code, message: message).response(spanID: nil)
    }
}
