import Foundation
import NIOCore
import NIOHTTP1
import PlumbCore

/// The client end of a connection: collects each request (up to `max_request_bytes`), answers
/// `/_plumb/` itself, refuses what has no configured provider, and hands the rest to a
/// `ProxyCall`. HTTP/1.1 keep-alive and pipelining (NIO's pipeline handler orders responses).
final class ProxyConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let core: ProxyCore
    var head: HTTPRequestHead?
    var body = ByteBuffer()
    var bodyBytes = 0
    var tooLarge = false
    var startNanos: UInt64 = 0
    var startMicros: Int64 = 0
    var call: ProxyCall?

    init(core: ProxyCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            startNanos = Monotonic.nanos()
            startMicros = Timestamp.nowMicros()
            head = h
            if h.headers.first(name: "expect")?.lowercased() == "100-continue" {
                // Plumb reads the body itself before forwarding: tell the client to send it now.
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))), promise: nil)
            }
            body.clear()
            bodyBytes = 0
            tooLarge = false
        case .body(var chunk):
            bodyBytes += chunk.readableBytes
            if bodyBytes > core.settings.maxRequestBytes { tooLarge = true; body.clear() }
            if !tooLarge { body.writeBuffer(&chunk) }
        case .end:
            guard let h = head else { return }
            head = nil
            dispatch(h, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { call?.clientWritable() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        call?.clientGone()
        call = nil
        context.fireChannelInactive()
    }

    private func dispatch(_ h: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = h.isKeepAlive
        let (path, query) = Self.split(h.uri)
        let route = Route(path: path, registry: core.settings.registry)
        if case .admin(let adminPath) = route {
            let reply = AdminEndpoints(core: core).respond(path: adminPath, method: h.method, query: query,
                                                           body: Array(body.readableBytesView),
                                                           authorization: h.headers.first(name: "authorization"), on: context.eventLoop)
            reply.assumeIsolated().whenSuccess { r in
                writeResponse(status: r.status, contentType: r.contentType, body: ByteBuffer(string: r.body), keepAlive: keepAlive, to: context)
                if !keepAlive { context.close(promise: nil) }
            }
            return
        }
        var draft = SpanDraft(spanID: SpanID.generate(atMicros: startMicros), startMicros: startMicros, startNanos: startNanos,
                              method: h.method.rawValue, bodyCap: core.settings.maxStoredBodyBytes, storeBodies: core.settings.storeBodies)
        let caller = CallerHeaders(h.headers)
        draft.caller(caller, fingerprint: core.fingerprint)
        if draft.span.apiKeyHash == nil, let key = Self.queryKey(query) { draft.span.apiKeyHash = core.fingerprint.hash(key) }

        guard case .forward(let provider, let upstreamPath) = route, let target = core.target(of: provider) else {
            if case .unknownProvider(let name) = route { draft.span.provider = name }
            draft.span.endpoint = path
            return answer(.unknownProvider(draft.span.provider), draft: &draft, keepAlive: keepAlive, context: context)
        }
        draft.span.provider = provider.name
        draft.span.endpoint = upstreamPath
        let operation = Operation(shape: provider.shape, method: h.method.rawValue, path: upstreamPath)
        draft.span.operation = operation.rawValue
        if !core.settings.clientKeys.isEmpty && !core.settings.listen.isLoopback {
            let presented = h.headers.first(name: "plumb-client-key") ?? ""
            guard core.settings.clientKeys.contains(where: { ProxyCore.constantTimeEqual($0, presented) }) else {
                return answer(.unauthorized, draft: &draft, keepAlive: keepAlive, context: context)
            }
        }
        if tooLarge {
            draft.span.requestBytes = Int64(bodyBytes)
            return answer(.tooLarge(limit: core.settings.maxRequestBytes), draft: &draft, keepAlive: keepAlive,
                          context: context, requestBytes: bodyBytes)
        }
        let bytes = body.readableBytesView
        draft.requestBody.append(bytes)
        let inspection = RequestInspection(shape: provider.shape, operation: operation, path: upstreamPath, body: Array(bytes))
        draft.span.modelRequested = inspection.modelRequested
        draft.span.stream = inspection.stream

        var headers = HTTPHeaders()
        headers.reserveCapacity(caller.forwarded.count + 2)
        headers.add(name: "Host", value: target.hostHeader)
        for (name, value) in caller.forwarded { headers.add(name: name, value: value) }
        let forwardBody = inspection.injectedUsage ? ByteBuffer(bytes: inspection.forwardBody) : body
        if forwardBody.readableBytes > 0 || h.method == .POST || h.method == .PUT || h.method == .PATCH {
            headers.add(name: "Content-Length", value: String(forwardBody.readableBytes))
        }
        let uri = target.pathPrefix + upstreamPath + (query.map { "?" + $0 } ?? "")
        let upstreamHead = HTTPRequestHead(version: .http1_1, method: h.method, uri: uri, headers: headers)
        let call = ProxyCall(core: core, client: context, target: target, provider: provider, inspection: inspection,
                             requestHead: upstreamHead, requestBody: forwardBody, keepAlive: keepAlive, draft: draft) { [weak self] keep in
            self?.call = nil
            if !keep { context.close(promise: nil) }
        }
        self.call = call
        call.start()
    }

    /// A failure answered without calling upstream; still a span.
    private func answer(_ failure: ProxyFailure, draft: inout SpanDraft, keepAlive: Bool, context: ChannelHandlerContext,
                        requestBytes: Int? = nil) {
        let body = failure.body()
        draft.responseBody.append(body.readableBytesView)
        ProxyFailure.write(failure, body: body, spanID: draft.span.spanID, keepAlive: keepAlive, to: context)
        var span = draft.finish(usage: CallUsage(), prices: core.settings.prices, status: Int(failure.status.code),
                                errorType: failure.errorType, endNanos: Monotonic.nanos())
        if let requestBytes { span.requestBytes = Int64(requestBytes) }
        core.record(span)
        if !keepAlive { context.close(promise: nil) }
    }

    static func split(_ target: String) -> (path: String, query: String?) {
        // An absolute-form target (as sent to a forward proxy) keeps only its path: the host
        // part never chooses where Plumb connects.
        var t = Substring(target)
        if t.hasPrefix("http://") || t.hasPrefix("https://") {
            let afterScheme = t.drop { $0 != "/" }.dropFirst(2)
            t = afterScheme.drop { $0 != "/" }
            if t.isEmpty { t = "/" }
        }
        guard let q = t.firstIndex(of: "?") else { return (String(t), nil) }
        return (String(t[..<q]), String(t[t.index(after: q)...]))
    }

    /// Gemini's `?key=` credential, to fingerprint like a header key.
    static func queryKey(_ query: String?) -> String? {
        guard let query else { return nil }
        for part in query.split(separator: "&") where part.hasPrefix("key=") {
            return String(part.dropFirst(4)).removingPercentEncoding ?? String(part.dropFirst(4))
        }
        return nil
    }
}
