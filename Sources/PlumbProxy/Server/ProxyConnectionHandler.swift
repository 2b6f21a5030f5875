import Foundation
import NIOCore
import NIOHTTP1
import PlumbCore

/// The client end of a connection: collects each request (up to `max_request_bytes`), answers
/// `/_plumb/` itself, refuses what has no configured provider, and hands the rest to a
/// `ProxyCall`. HTTP/1.1 keep-alive and pipelining: requests are answered one at a time, in
/// order; one that arrives while another is answered waits here.
///
/// Reads go on while a response is in progress (NIO's pipelining handler stops and restarts
/// them around every response, which costs two `epoll_ctl` calls per request); they stop only
/// while a complete request waits, so a pipelining client is held to what one read delivers.
final class ProxyConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A request as it arrived: head, the body up to the limit, and when its head came.
    struct Request {
        var head: HTTPRequestHead
        var body = ByteBuffer()
        var bodyBytes = 0
        var tooLarge = false
        var startNanos: UInt64
        var startMicros: Int64
        /// It asked for `100 Continue`, which waits until the responses before it are done.
        var continueOwed = false
    }

    let core: ProxyCore
    var receiving: Request?
    var waiting = CircularBuffer<Request>()
    /// A response is in progress (a call, an admin answer or a failure).
    var busy = false
    var draining = false
    var readHeld = false
    var closed = false
    /// The client sent bytes that are not HTTP: answered with 400 after the requests before them.
    var malformed: HTTPParserError?
    var call: ProxyCall?
    /// The last credential seen on this connection and its fingerprint (an HMAC per request
    /// otherwise; a keep-alive connection nearly always carries one key).
    var lastKey: (key: String, hash: String)?
    var idGenerator = SpanID.Generator()

    init(core: ProxyCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            var r = Request(head: h, startNanos: Monotonic.nanos(), startMicros: Timestamp.nowMicros())
            if let expect = h.headers.first(name: "expect"), expect.lowercased() == "100-continue" {
                // Plumb reads the body itself before forwarding: tell the client to send it now,
                // or once the responses before this request are done.
                if busy || !waiting.isEmpty { r.continueOwed = true } else { sendContinue(h, context: context) }
            }
            receiving = r
        case .body(var chunk):
            guard receiving != nil else { return }
            receiving!.bodyBytes += chunk.readableBytes
            if receiving!.bodyBytes > core.settings.maxRequestBytes { receiving!.tooLarge = true; receiving!.body = ByteBuffer() }
            if !receiving!.tooLarge { receiving!.body.writeBuffer(&chunk) }
        case .end:
            guard let r = receiving else { return }
            receiving = nil
            waiting.append(r)
            next(context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if busy && !waiting.isEmpty && !closed { readHeld = true } else { context.read() }
    }

    /// A parse error: the requests before it are still answered, in order; then a 400 and the
    /// connection closes (NIO's error handler would answer at once, ahead of pending responses).
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parseError = error as? HTTPParserError else { return context.fireErrorCaught(error) }
        guard malformed == nil && !closed else { return }
        malformed = parseError
        receiving = nil
        next(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { call?.clientWritable() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        call?.clientGone()
        call = nil
        waiting.removeAll()
        context.fireChannelInactive()
    }

    /// Starts the waiting requests in order while none is in progress (a failure answered at
    /// once finishes within `start`, so this loops rather than recurses).
    private func next(context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        while !busy && !closed, let r = waiting.popFirst() {
            busy = true
            start(r, context: context)
        }
        draining = false
        guard !busy && !closed else { return }
        if let malformed {
            closed = true
            let failure = ProxyFailure.badRequest("\(malformed)")
            ProxyFailure.write(failure, body: failure.body(), spanID: nil, keepAlive: false, to: context)
            context.close(promise: nil)
            return
        }
        if receiving?.continueOwed == true, let h = receiving?.head {
            receiving!.continueOwed = false
            sendContinue(h, context: context)
        }
        if readHeld { readHeld = false; context.read() }
    }

    /// The response to the current request is complete.
    private func finished(keepAlive: Bool, context: ChannelHandlerContext) {
        busy = false
        call = nil
        guard keepAlive else {
            closed = true
            waiting.removeAll()
            context.close(promise: nil)
            return
        }
        next(context: context)
    }

    private func sendContinue(_ h: HTTPRequestHead, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))), promise: nil)
    }

    private func start(_ r: Request, context: ChannelHandlerContext) {
        let h = r.head
        let keepAlive = h.isKeepAlive
        let (path, query) = Self.split(h.uri)
        let route = Route(path: path, registry: core.settings.registry)
        if case .admin(let adminPath) = route {
            let reply = AdminEndpoints(core: core).respond(path: adminPath, method: h.method, query: query,
                                                           body: Array(r.body.readableBytesView),
                                                           authorization: h.headers.first(name: "authorization"), on: context.eventLoop)
            reply.assumeIsolated().whenSuccess { [self] reply in
                writeResponse(status: reply.status, contentType: reply.contentType, body: ByteBuffer(string: reply.body),
                              keepAlive: keepAlive, to: context)
                finished(keepAlive: keepAlive, context: context)
            }
            return
        }
        var draft = SpanDraft(spanID: idGenerator.next(atMicros: r.startMicros), startMicros: r.startMicros, startNanos: r.startNanos,
                              method: h.method.rawValue, bodyCap: core.settings.maxStoredBodyBytes, storeBodies: core.settings.storeBodies)
        let caller = CallerHeaders(h.headers)
        draft.caller(caller)
        if let key = caller.apiKey.flatMap({ $0.isEmpty ? nil : $0 }) ?? Self.queryKey(query), !key.isEmpty {
            draft.span.apiKeyHash = fingerprint(key)
        }

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
        if r.tooLarge {
            draft.span.requestBytes = Int64(r.bodyBytes)
            return answer(.tooLarge(limit: core.settings.maxRequestBytes), draft: &draft, keepAlive: keepAlive,
                          context: context, requestBytes: r.bodyBytes)
        }
        let bytes = r.body.readableBytesView
        draft.requestBody.append(bytes)
        let inspection = RequestInspection(shape: provider.shape, operation: operation, path: upstreamPath, body: bytes)
        draft.span.modelRequested = inspection.modelRequested
        draft.span.stream = inspection.stream

        var headers = HTTPHeaders()
        headers.reserveCapacity(caller.forwarded.count + 2)
        headers.add(name: "Host", value: target.hostHeader)
        for (name, value) in caller.forwarded { headers.add(name: name, value: value) }
        let forwardBody = inspection.rewrittenBody.map { ByteBuffer(bytes: $0) } ?? r.body
        if forwardBody.readableBytes > 0 || h.method == .POST || h.method == .PUT || h.method == .PATCH {
            headers.add(name: "Content-Length", value: String(forwardBody.readableBytes))
        }
        let uri = target.pathPrefix + upstreamPath + (query.map { "?" + $0 } ?? "")
        let upstreamHead = HTTPRequestHead(version: .http1_1, method: h.method, uri: uri, headers: headers)
        let call = ProxyCall(core: core, client: context, target: target, provider: provider, inspection: inspection,
                             requestHead: upstreamHead, requestBody: forwardBody, keepAlive: keepAlive, draft: draft) { [weak self] keep in
            self?.finished(keepAlive: keep, context: context)
        }
        self.call = call
        call.start()
    }

    /// The key's fingerprint, computed once per key on this connection.
    private func fingerprint(_ key: String) -> String {
        if let last = lastKey, last.key == key { return last.hash }
        let hash = core.fingerprint.hash(key)
        lastKey = (key, hash)
        return hash
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
        finished(keepAlive: keepAlive, context: context)
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
