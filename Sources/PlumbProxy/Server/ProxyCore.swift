import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import PlumbCore
import PlumbStore

/// The proxy's shared state and its request path: route, read the caller's headers and body,
/// forward upstream, stream the answer back while reading usage, and record one span per call.
/// Spans go to the store with a non-blocking append; if the store cannot take one, the call is
/// still proxied and the drop is counted.
final class ProxyCore: Sendable {
    let settings: ProxySettings
    let store: SpanStore
    let client: HTTPClient
    let fingerprint: KeyFingerprint
    let metrics = ProxyMetrics()
    let recent = RecentSpans()

    init(settings: ProxySettings, store: SpanStore, fingerprint: KeyFingerprint) {
        self.settings = settings
        self.store = store
        self.fingerprint = fingerprint
        var config = HTTPClient.Configuration()
        config.redirectConfiguration = .disallow            // a redirect is the caller's to follow
        config.decompression = .disabled                    // bytes pass through as sent
        config.timeout = .init(connect: .seconds(10), read: .milliseconds(Int64(settings.upstreamTimeoutSeconds * 1000)))
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// Hands a finished span to the store (never waits for the disk) and to the metrics.
    func record(_ span: Span) {
        _ = store.append(span)
        recent.add(span)
        metrics.record(span)
    }

    func handle(_ request: Request) async throws -> Response {
        let startNanos = Monotonic.nanos()
        let startMicros = Timestamp.nowMicros()
        let target = request.head.path ?? "/"
        let (path, query) = Self.split(target)
        let route = Route(path: path, registry: settings.registry)
        if case .admin(let adminPath) = route {
            return try await AdminEndpoints(core: self).respond(path: adminPath, request: request)
        }
        let spanID = SpanID.generate(atMicros: startMicros)
        var draft = SpanDraft(spanID: spanID, startMicros: startMicros, startNanos: startNanos,
                              method: request.method.rawValue, bodyCap: settings.maxStoredBodyBytes,
                              storeBodies: settings.storeBodies)
        let caller = CallerHeaders(request.headers)
        draft.caller(caller, fingerprint: fingerprint)
        if draft.span.apiKeyHash == nil, let key = Self.queryKey(query) { draft.span.apiKeyHash = fingerprint.hash(key) }

        guard case .forward(let provider, let upstreamPath) = route else {
            if case .unknownProvider(let name) = route { draft.span.provider = name; draft.span.endpoint = path }
            return fail(.unknownProvider(draft.span.provider), draft: &draft)
        }
        draft.span.provider = provider.name
        draft.span.endpoint = upstreamPath
        let operation = Operation(shape: provider.shape, method: request.method.rawValue, path: upstreamPath)
        draft.span.operation = operation.rawValue
        if !settings.clientKeys.isEmpty && !settings.listen.isLoopback {
            let presented = request.headers[HTTPField.Name("Plumb-Client-Key")!] ?? ""
            guard settings.clientKeys.contains(where: { Self.constantTimeEqual($0, presented) }) else {
                return fail(.unauthorized, draft: &draft)
            }
        }

        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: settings.maxRequestBytes)
        } catch is NIOTooManyBytesError {
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            draft.requestBody.append(EmptyCollection<UInt8>())
            draft.span.requestBytes = Int64(declared ?? settings.maxRequestBytes + 1)
            return fail(.tooLarge(limit: settings.maxRequestBytes), draft: &draft, requestBytes: declared ?? settings.maxRequestBytes + 1)
        }
        let bytes = Array(body.readableBytesView)
        draft.requestBody.append(bytes)
        let inspection = RequestInspection(shape: provider.shape, operation: operation, path: upstreamPath, body: bytes)
        draft.span.modelRequested = inspection.modelRequested
        draft.span.stream = inspection.stream

        var upstream = HTTPClientRequest(url: provider.upstreamURL(path: upstreamPath, query: query))
        upstream.method = HTTPMethod(rawValue: request.method.rawValue)
        for (name, value) in caller.forwarded { upstream.headers.add(name: name, value: value) }
        if !inspection.forwardBody.isEmpty || request.method == .post || request.method == .put || request.method == .patch {
            upstream.body = .bytes(ByteBuffer(bytes: inspection.forwardBody))
        }

        let upstreamStart = Monotonic.nanos()
        let response: HTTPClientResponse
        do {
            response = try await client.execute(upstream, deadline: .distantFuture)
        } catch {
            draft.span.upstreamMs = Monotonic.millis(from: upstreamStart, to: Monotonic.nanos())
            return fail(classify(error, provider: provider.name), draft: &draft)
        }
        return relay(response, draft: draft, provider: provider, inspection: inspection, upstreamStart: upstreamStart)
    }

    /// The upstream's answer, streamed to the client as it arrives; the span is recorded when the
    /// body ends, fails or the client goes away.
    private func relay(_ response: HTTPClientResponse, draft: SpanDraft, provider: Provider,
                       inspection: RequestInspection, upstreamStart: UInt64) -> Response {
        let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
        let sse = contentType.hasPrefix("text/event-stream")
        let filter = inspection.injectedUsage && sse
        var headers = HTTPFields()
        var contentLength: Int?
        for h in response.headers {
            let lower = h.name.lowercased()
            if lower == "content-length" { contentLength = Int(h.value); continue }
            if CallerHeaders.hopByHop.contains(lower) { continue }
            if let name = HTTPField.Name(h.name) { headers.append(HTTPField(name: name, value: h.value)) }
        }
        headers[ProxyHeaders.spanID] = draft.span.spanID
        let status = Int(response.status.code)
        let upstreamError: String? = status == 429 ? "rate_limited" : status >= 500 ? "upstream_5xx" : nil
        let streamed = inspection.stream || sse
        let body = ResponseBody(contentLength: filter ? nil : contentLength) { [self] writer in
            var draft = draft
            var observer = ResponseObserver(shape: provider.shape, sse: sse, filterUsage: filter, bodyCap: settings.maxStoredBodyBytes)
            var errorType: String?
            var firstByte: UInt64?
            var upstreamEnd: UInt64 = 0
            var clientGone = false
            do {
                for try await chunk in response.body {
                    if firstByte == nil { firstByte = Monotonic.nanos() }
                    let out = observer.pass(chunk)
                    if let out, out.readableBytes == 0 { continue }
                    do { try await writer.write(out ?? chunk) } catch { clientGone = true; break }
                }
                upstreamEnd = Monotonic.nanos()
            } catch {
                upstreamEnd = Monotonic.nanos()
                errorType = Self.isTimeout(error) ? "upstream_timeout" : "stream_reset"
            }
            if clientGone {
                upstreamEnd = Monotonic.nanos()
                errorType = "client_cancelled"
            } else if errorType == nil, let tail = observer.finish() {
                do { try await writer.write(tail) } catch { errorType = "client_cancelled" }
            }
            var finishedCleanly = errorType == nil
            if finishedCleanly {
                do { try await writer.finish(nil) } catch { errorType = "client_cancelled"; finishedCleanly = false }
            }
            draft.span.upstreamMs = Monotonic.millis(from: upstreamStart, to: upstreamEnd)
            if streamed, let firstByte { draft.span.ttftMs = Monotonic.millis(from: draft.startNanos, to: firstByte) }
            draft.responseBody = observer.capture
            let span = draft.finish(usage: observer.usage, prices: settings.prices, status: status,
                                    errorType: errorType ?? upstreamError, endNanos: Monotonic.nanos())
            record(span)
            // A stream cut upstream is cut for the client too, rather than ended as if complete.
            if errorType == "stream_reset" || errorType == "upstream_timeout" { throw StreamAborted() }
        }
        return Response(status: .init(code: status, reasonPhrase: response.status.reasonPhrase), headers: headers, body: body)
    }

    struct StreamAborted: Error {}

    /// A failure answered by Plumb itself; still a span.
    private func fail(_ failure: ProxyFailure, draft: inout SpanDraft, requestBytes: Int? = nil) -> Response {
        let response = failure.response(spanID: draft.span.spanID)
        let body = failure.body()
        draft.responseBody.append(body.readableBytesView)
        var span = draft.finish(usage: CallUsage(), prices: settings.prices, status: Int(failure.status.code),
                                errorType: failure.errorType, endNanos: Monotonic.nanos())
        if let requestBytes { span.requestBytes = Int64(requestBytes) }
        record(span)
        return response
    }

    private func classify(_ error: Error, provider: String) -> ProxyFailure {
        if Self.isTimeout(error) { return .timeout(provider, seconds: settings.upstreamTimeoutSeconds) }
        return .unreachable(provider, Self.describe(error))
    }

    static func isTimeout(_ error: Error) -> Bool {
        guard let e = error as? HTTPClientError else { return false }
        return e == .readTimeout || e == .deadlineExceeded
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError {
            if e == .connectTimeout { return "connection timed out" }
            if e == .remoteConnectionClosed { return "the connection was closed before a response" }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    static func split(_ target: String) -> (path: String, query: String?) {
        guard let q = target.firstIndex(of: "?") else { return (target, nil) }
        return (String(target[..<q]), String(target[target.index(after: q)...]))
    }

    /// Gemini's `?key=` credential, to fingerprint like a header key.
    static func queryKey(_ query: String?) -> String? {
        guard let query else { return nil }
        for part in query.split(separator: "&") where part.hasPrefix("key=") {
            return String(part.dropFirst(4)).removingPercentEncoding ?? String(part.dropFirst(4))
        }
        return nil
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
