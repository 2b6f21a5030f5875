import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PlumbCore
import PlumbStore
import PlumbQuery

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
        /// The request target's path and query (`split`), read once.
        var path: String
        var query: String?
        var body = ByteBuffer()
        var bodyBytes = 0
        var tooLarge = false
        var startNanos: UInt64
        var startMicros: Int64
        /// It asked for `100 Continue`, which waits until the responses before it are done.
        var continueOwed = false
        /// Where it goes, decided from the head.
        var route: Route
        /// Refused from its head alone (or when its body went over the limit): answered in turn
        /// without reading the rest of the body, and then the connection closes.
        var refusal: ProxyFailure?
        /// The refusal has a provider (it is labelled by it in the metrics).
        var refusalRouted = false
        /// Refused before its body was read: the connection cannot carry another request.
        var bodyUnread = false
        /// Bytes of the body taken from the server's body budget (given back when it is done).
        var heldBytes = 0
        /// What its headers say (read once, with the head's checks).
        var caller: CallerHeaders?
        /// The live Plumb key it presented, and the key itself (for its fingerprint).
        var plumbKey: PlumbKeyRecord?
        var plumbKeyText: String?
    }

    /// Which limit the connection's timer enforces now.
    enum Wait: Equatable {
        /// No request yet: the first head must be complete within `header_timeout`, a next one
        /// on a kept-alive connection within `idle_timeout` of the last response.
        case head(first: Bool)
        /// A request's body is arriving: no gap over `body_timeout`.
        case body
    }

    let core: ProxyCore
    var receiving: Request?
    var waiting = CircularBuffer<Request>(initialCapacity: 1)
    /// A response is in progress (a call, an admin answer or a failure).
    var busy = false
    var draining = false
    var readHeld = false
    var closed = false
    /// The client sent bytes that are not HTTP: answered with 400 after the requests before them.
    var malformed: HTTPParserError?
    var call: ProxyCall?
    /// The HTTP encoder's context (`encoderContext`).
    var encoder: ChannelHandlerContext?
    /// The client connects from this machine's loopback (local-only providers are open to it).
    var clientIsLoopback = false
    /// Counted against `max_connections` (and so to be uncounted when it closes).
    var counted = false
    var started = false
    /// Requests answered on this connection.
    var served = 0
    /// A refused request's body is being ignored (the connection closes after its answer).
    var discarding = false
    /// What the connection waits for from the client now, and since when (the sweeper checks).
    var waitingFor: Wait?
    var waitingSince: UInt64 = 0
    var lastBodyNanos: UInt64 = 0
    /// The budget bytes of the request being answered (given back when it finishes).
    var currentHeldBytes = 0
    /// Below this average, a body is cut once `body_timeout` has passed since its head.
    static let minimumBodyBytesPerSecond = 1024

    static let maxHeaderFields = 256

    init(core: ProxyCore) { self.core = core }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { connectionStarted(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionStarted(context: context)
        context.fireChannelActive()
    }

    /// Once per connection: counted against `max_connections` (closed at once past it), the
    /// client's address judged, the first head's timer started.
    private func connectionStarted(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        guard core.connections.take() else {
            closed = true
            context.close(promise: nil)
            return
        }
        counted = true
        clientIsLoopback = LoopbackAddress.isLoopback(context.channel.remoteAddress)
        core.sweeper(for: context.eventLoop).add(self, context)
        rearm(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            guard !discarding else { return }     // after a refusal nothing more is read
            let (path, query) = Self.split(h.uri)
            var r = Request(head: h, path: path, query: query, startNanos: Monotonic.nanos(), startMicros: Timestamp.nowMicros(),
                            route: Route(path: path, registry: core.settings.registry))
            if let (failure, routed) = refusal(of: &r, on: context.eventLoop) {
                r.refusal = failure
                r.refusalRouted = routed
                // Without a body the request is complete: answered in turn, the connection kept.
                if Self.hasBody(h) || failure.status == .requestHeaderFieldsTooLarge { refuse(r, context: context) } else { receiving = r }
                return
            }
            if let expect = h.headers.first(name: "expect"), expect.lowercased() == "100-continue" {
                // Plumb reads the body itself before forwarding: tell the client to send it now
                // (its head passed every check), or once the responses before this request are done.
                if busy || !waiting.isEmpty { r.continueOwed = true } else { sendContinue(h, context: context) }
            }
            receiving = r
            lastBodyNanos = Monotonic.nanos()
            rearm(context: context)
        case .body(var chunk):
            guard receiving != nil, !discarding else { return }
            lastBodyNanos = Monotonic.nanos()
            receiving!.bodyBytes += chunk.readableBytes
            if receiving!.bodyBytes > bodyLimit(receiving!.route) {
                // Over the limit (a chunked body, or more than its Content-Length said): answered
                // now, the rest never read.
                var r = receiving!
                receiving = nil
                core.bodyBytes.give(r.heldBytes)
                r.heldBytes = 0
                r.body = ByteBuffer()
                r.tooLarge = true
                r.refusal = .tooLarge(limit: bodyLimit(r.route))
                r.refusalRouted = r.route.isForward
                refuse(r, context: context)
                return
            }
            guard core.bodyBytes.take(chunk.readableBytes) else {
                var r = receiving!
                receiving = nil
                core.bodyBytes.give(r.heldBytes)
                r.heldBytes = 0
                r.body = ByteBuffer()
                r.refusal = .serverBusy
                r.refusalRouted = r.route.isForward
                refuse(r, context: context)
                return
            }
            receiving!.heldBytes += chunk.readableBytes
            receiving!.body.writeBuffer(&chunk)
        case .end:
            if discarding { return }
            guard let r = receiving else { return }
            receiving = nil
            waiting.append(r)
            next(context: context)
            rearm(context: context)
        }
    }

    /// Queues a refused request to be answered in turn; nothing more is read from the
    /// connection, which closes after the answer (its body, if any, is left unread).
    private func refuse(_ r: Request, context: ChannelHandlerContext) {
        var r = r
        r.bodyUnread = true
        receiving = nil
        discarding = true
        waiting.append(r)
        next(context: context)
        rearm(context: context)
    }

    /// What the head alone says is wrong with a request, if anything: checked before any of its
    /// body is read or `100 Continue` is sent. `routed`: the refusal names a configured provider.
    private func refusal(of r: inout Request, on loop: EventLoop) -> (ProxyFailure, routed: Bool)? {
        let h = r.head
        if h.headers.count > Self.maxHeaderFields { return (.tooManyHeaders(h.headers.count, limit: Self.maxHeaderFields), false) }
        if h.uri.utf8.contains(UInt8(ascii: "#")) { return (.invalidPath(h.uri), false) }
        switch r.route {
        case .invalidPath: return (.invalidPath(r.path), false)
        case .unknownProvider(let name): return (.unknownProvider(ProxyFailure.shown(name)), false)
        case .admin:
            if let f = AdminEndpoints.refusal(settings: core.settings, host: h.headers.first(name: "host"),
                                              authorization: h.headers.first(name: "authorization")) { return (f, false) }
            // Admin requests are small (a query): the body limit is theirs too.
        case .forward(let provider, _):
            if provider.localOnly && !clientIsLoopback { return (.localProvider(provider.name), true) }
            let caller = CallerHeaders(h.headers)
            if let problem = caller.oversized { return (.invalidHeader(problem), true) }
            r.caller = caller
            // A Plumb key as the API key, in Plumb-Client-Key, or as Gemini's ?key=: it must be
            // a live one, and it is never forwarded.
            let presented = [caller.plumbKey, h.headers.first(name: "plumb-client-key"), Self.queryKey(r.query)]
            if let text = presented.lazy.compactMap({ $0 }).first(where: PlumbKey.isPlumbKey) {
                guard let key = core.keys.lookup(text, on: loop) else { return (.invalidPlumbKey, true) }
                if !key.providers.isEmpty && !key.providers.contains(provider.name) { return (.providerNotAllowed(key.name, provider.name), true) }
                r.plumbKey = key
                r.plumbKeyText = text
            } else if core.settings.control.requireKey {
                return (.keyRequired, true)
            }
            if r.plumbKey == nil && !core.settings.clientKeys.isEmpty && !core.settings.listen.isLoopback {
                let presented = h.headers.first(name: "plumb-client-key") ?? ""
                guard core.settings.clientKeys.contains(where: { ProxyCore.constantTimeEqual($0, presented) }) else {
                    return (.unauthorized, true)
                }
            }
        }
        if let length = h.headers.first(name: "content-length").flatMap({ Int($0.trimmingSpaces()) }), length > bodyLimit(r.route) {
            return (.tooLarge(limit: bodyLimit(r.route)), r.route.isForward)
        }
        return nil
    }

    /// `max_request_bytes`, or for Plumb's own endpoints what a query can need (SQL, or JSON around it).
    private func bodyLimit(_ route: Route) -> Int {
        if case .admin = route { return min(core.settings.maxRequestBytes, 2 * QueryEndpoint.maxSQLBytes) }
        return core.settings.maxRequestBytes
    }

    func read(context: ChannelHandlerContext) {
        // Once closed (a refused body lingering) reads go on, and are dropped, until the close.
        if !closed && (busy && !waiting.isEmpty || !context.channel.isWritable) { readHeld = true } else { context.read() }
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

    /// A client that sends requests without reading the answers (pipelined metrics pages, say)
    /// is not read while its answers back up: their memory is bounded by the write buffer.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            call?.clientWritable()
            if readHeld && !(busy && !waiting.isEmpty) { readHeld = false; context.read() }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        core.bodyBytes.give(currentHeldBytes + (receiving?.heldBytes ?? 0) + waiting.reduce(0) { $0 + $1.heldBytes })
        currentHeldBytes = 0
        receiving = nil
        if counted { counted = false; core.connections.give(); core.sweeper(for: context.eventLoop).remove(self) }
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
            closeAfterWrites(context: context)
            return
        }
        if receiving?.continueOwed == true, let h = receiving?.head {
            receiving!.continueOwed = false
            sendContinue(h, context: context)
        }
        if readHeld && context.channel.isWritable { readHeld = false; context.read() }
    }

    /// The response to the current request is complete.
    private func finished(keepAlive: Bool, context: ChannelHandlerContext) {
        core.bodyBytes.give(currentHeldBytes)
        currentHeldBytes = 0
        busy = false
        call = nil
        served += 1
        guard keepAlive else {
            closed = true
            waiting.removeAll()
            closeAfterWrites(context: context)
            return
        }
        next(context: context)
        rearm(context: context)
    }

    /// The HTTP encoder's context in this connection's pipeline (looked up once).
    private func encoderContext(_ context: ChannelHandlerContext) -> ChannelHandlerContext? {
        if encoder == nil { encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) }
        return encoder
    }

    /// Closes once what was written has gone to the socket: a close with writes still queued
    /// (a large answer to a slow reader) would drop them and cut the response. An empty write
    /// from the HTTP encoder's place completes after every write before it.
    private func closeAfterWrites(context: ChannelHandlerContext, mode: CloseMode = .all) {
        guard let encoder = encoderContext(context) else {
            return context.close(mode: mode, promise: nil)
        }
        encoder.writeAndFlush(NIOAny(ByteBuffer())).assumeIsolated().whenComplete { _ in context.close(mode: mode, promise: nil) }
        // A client that never reads does not hold the connection past idle_timeout.
        let limit = TimeAmount.nanoseconds(Int64(core.settings.idleTimeout * 1e9))
        context.eventLoop.assumeIsolated().scheduleTask(in: limit) { if context.channel.isActive { context.close(promise: nil) } }
    }

    // MARK: Client timeouts

    /// Notes what the connection waits for now: a head, a body, or nothing (a response in
    /// progress: the upstream's timeout governs, and a client that does not read holds back the
    /// upstream, not memory). The per-loop `ConnectionSweeper` enforces it.
    private func rearm(context: ChannelHandlerContext) {
        guard !closed else { return }
        let want: Wait?
        if busy || !waiting.isEmpty || discarding { want = nil }
        else if receiving != nil { want = .body }
        else { want = .head(first: served == 0) }
        guard want != waitingFor else { return }
        waitingFor = want
        waitingSince = Monotonic.nanos()
    }

    private func seconds(for wait: Wait) -> Double {
        switch wait {
        case .head(let first): first ? core.settings.headerTimeout : core.settings.idleTimeout
        case .body: core.settings.bodyTimeout
        }
    }

    /// The sweeper's check: the call in progress, if its upstream is silent too long
    /// (`ProxyCall.checkTimeout`); a head overdue (from when the connection began waiting for it) or a
    /// body stalled (from its last chunk) closes the connection; a stalled body is told why (408).
    func checkTimeout(now: UInt64, context: ChannelHandlerContext) {
        call?.checkTimeout(now: now)
        guard !closed, let wait = waitingFor else { return }
        let limit = UInt64(seconds(for: wait) * 1e9)
        let since = wait == .body ? max(lastBodyNanos, waitingSince) : waitingSince
        // A body that trickles in (a byte every few seconds) is as good as stalled.
        let trickling = wait == .body && now &- waitingSince > limit
            && UInt64(receiving?.bodyBytes ?? 0) * 1_000_000_000 < UInt64(Self.minimumBodyBytesPerSecond) * (now &- waitingSince)
        guard now &- since >= limit || trickling else { return }
        closed = true
        waitingFor = nil
        if wait == .body {
            let failure = ProxyFailure.requestTimeout
            ProxyFailure.write(failure, body: failure.body(), spanID: nil, keepAlive: false, to: context)
        }
        receiving = nil
        closeAfterWrites(context: context)
    }

    private func sendContinue(_ h: HTTPRequestHead, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))), promise: nil)
    }

    private func start(_ r: Request, context: ChannelHandlerContext) {
        currentHeldBytes = r.heldBytes
        let h = r.head
        // A refused request's body was not read: the connection cannot carry another.
        let keepAlive = h.isKeepAlive && !r.bodyUnread
        let path = r.path
        var query = r.query
        if let failure = r.refusal {
            return refuse(failure, routed: r.refusalRouted, request: r, path: path, keepAlive: keepAlive, context: context)
        }
        let route = r.route
        if case .admin(let adminPath) = route {
            let admin = AdminEndpoints(core: core)
            if AdminEndpoints.isQuery(adminPath) { return startQuery(admin.queryEndpoint, r, query: query, keepAlive: keepAlive, context: context) }
            let reply = admin.respond(path: adminPath, method: h.method, on: context.eventLoop)
            reply.assumeIsolated().whenSuccess { [self] reply in
                writeResponse(status: reply.status, contentType: reply.contentType, body: ByteBuffer(string: reply.body),
                              keepAlive: keepAlive, bodyless: h.method == .HEAD, to: context)
                finished(keepAlive: keepAlive, context: context)
            }
            return
        }
        guard case .forward(let provider, let upstreamPath) = route, let target = core.target(of: provider) else {
            return refuse(.unknownProvider(""), routed: false, request: r, path: path, keepAlive: keepAlive, context: context)
        }
        var caller = r.caller ?? CallerHeaders(h.headers)
        // Only Plumb names a call's key: a caller's own property of that name is dropped.
        caller.properties[CallIdentity.keyProperty] = r.plumbKey?.name
        let bedrockAPIKey = provider.shape == .bedrock ? BedrockSigning.bearerKey(caller.forwarded) : nil
        let lendsCredentials = (provider.shape == .bedrock && bedrockAPIKey == nil && core.settings.awsSigners[provider.name] != nil)
            || (provider.shape == .vertex && core.settings.googleTokens[provider.name] != nil)
        if lendsCredentials {
            // Plumb's own AWS key signs, or its service account's token goes instead of the
            // caller's credentials: only for callers Plumb knows (a Plumb key, or loopback), and
            // for AWS only Bedrock Runtime's model calls. No Plumb key goes upstream.
            guard r.plumbKey != nil || clientIsLoopback else {
                return refuse(.cloudCredentialsNeedKey(provider.name), routed: true, request: r, path: path, keepAlive: keepAlive, context: context)
            }
            if provider.shape == .bedrock && !BedrockSigning.isModelCall(method: h.method, path: upstreamPath) {
                return refuse(.notSigned(provider.name, upstreamPath), routed: true, request: r, path: path, keepAlive: keepAlive, context: context)
            }
            _ = caller.dropPlumbKeys()
            if Self.queryKey(query).map(PlumbKey.isPlumbKey) == true { query = Self.removingQueryKey(query) }
        } else if provider.shape == .bedrock && bedrockAPIKey == nil {
            // No AWS key to sign with: a Bedrock API key is what is left, Plumb's for a Plumb key.
            guard r.plumbKey != nil, let secret = core.settings.control.providerKeys[provider.name] else {
                return refuse(.awsCredentialsMissing(provider.name), routed: true, request: r, path: path, keepAlive: keepAlive, context: context)
            }
            caller.useProviderKey(secret, shape: provider.shape)
            query = Self.removingQueryKey(query)
        } else if r.plumbKey != nil {
            if let secret = core.settings.control.providerKeys[provider.name] {
                caller.useProviderKey(secret, shape: provider.shape)
                query = Self.removingQueryKey(query)
            } else {
                // The caller's own key goes on (the Plumb key never does); without one, there is
                // nothing to call the provider with.
                let ownKey = caller.dropPlumbKeys()
                if Self.queryKey(query).map(PlumbKey.isPlumbKey) == true { query = Self.removingQueryKey(query) }
                if !ownKey && Self.queryKey(query) == nil {
                    return refuse(.providerKeyMissing(provider.name), routed: true, request: r, path: path, keepAlive: keepAlive, context: context)
                }
            }
        }
        var draft = SpanDraft(spanID: core.spanIDs(for: context.eventLoop).next(atMicros: r.startMicros), startMicros: r.startMicros, startNanos: r.startNanos,
                              method: h.method.rawValue, bodyCap: core.settings.maxStoredBodyBytes, storeBodies: core.settings.storeBodies)
        draft.caller(caller)
        if let key = r.plumbKeyText ?? caller.apiKey.flatMap({ $0.isEmpty ? nil : $0 }) ?? Self.queryKey(query), !key.isEmpty {
            draft.span.apiKeyHash = core.fingerprints(for: context.eventLoop).hash(key)
        }
        draft.span.provider = provider.name
        draft.span.endpoint = upstreamPath
        draft.priceKey = PriceKey(provider: provider, endpoint: upstreamPath)
        let operation = Operation(shape: provider.shape, method: h.method.rawValue, path: upstreamPath)
        draft.span.operation = operation.rawValue
        draft.requestBody.append(r.body.readableBytesView)
        let forward = Forward(request: r, provider: provider, target: target, upstreamPath: upstreamPath, query: query,
                              caller: caller, keepAlive: keepAlive, plumbKey: r.plumbKey)
        guard r.body.readableBytes > Self.inlineInspectionBytes, provider.shape != .passthrough else {
            let inspection = RequestInspection(shape: provider.shape, operation: operation, path: upstreamPath, query: query, body: r.body.readableBytesView)
            return send(forward, inspection: inspection, draft: draft, context: context)
        }
        // A large body is read on the thread pool: scanning megabytes here would hold up every
        // other connection of this event loop.
        let body = r.body, shape = provider.shape, forwardedQuery = query
        NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) {
            RequestInspection(shape: shape, operation: operation, path: upstreamPath, query: forwardedQuery, body: body.readableBytesView)
        }.assumeIsolated().whenComplete { [self] result in
            guard !closed else { return }
            send(forward, inspection: (try? result.get()) ?? RequestInspection(), draft: draft, context: context)
        }
    }

    /// Bodies up to this size are inspected on the event loop (a few hundred microseconds).
    static let inlineInspectionBytes = 256 << 10

    /// A request on its way upstream, between its checks and its inspection.
    struct Forward {
        let request: Request
        let provider: Provider
        let target: UpstreamTarget
        let upstreamPath: String
        let query: String?
        let caller: CallerHeaders
        let keepAlive: Bool
        let plumbKey: PlumbKeyRecord?
    }

    /// Checks a request against its Plumb key's models, its budgets and limits, then forwards it.
    private func send(_ f: Forward, inspection: RequestInspection, draft: SpanDraft, context: ChannelHandlerContext) {
        var draft = draft
        draft.span.modelRequested = inspection.modelRequested
        draft.span.stream = inspection.stream
        guard let encoder = encoderContext(context) else { return context.close(promise: nil) }   // not without NIO's HTTP pipeline
        if let key = f.plumbKey, !key.models.isEmpty,
           !(inspection.modelRequested.map { m in key.models.contains { Glob.matches($0, m) } } ?? (f.request.head.method == .GET)) {
            return answerChecked(.modelNotAllowed(key.name, inspection.modelRequested), extra: [], draft: draft, request: f.request,
                                 keepAlive: f.keepAlive, context: context)
        }
        guard core.needsAdmission(key: f.plumbKey) else { return forward(f, inspection: inspection, draft: draft, ticket: nil, encoder: encoder, context: context) }
        let identity = CallIdentity(keyName: f.plumbKey?.name, apiKeyHash: draft.span.apiKeyHash, userID: f.caller.userID,
                                    properties: f.caller.properties, provider: f.provider.name, model: inspection.modelRequested)
        let estimate = SpendEstimate.nanos(price: inspection.modelRequested.flatMap { core.settings.prices.price(PriceKey(provider: f.provider, endpoint: f.upstreamPath), model: $0) },
                                           requestBytes: f.request.body.readableBytes, maxTokens: inspection.maxTokens,
                                           defaultMaxTokens: core.settings.control.estimateMaxTokens)
        let admitted = { [self] (decision: ControlPlane.Decision) in
            switch decision {
            case .refused(let failure, let headers):
                answerChecked(failure, extra: headers, draft: draft, request: f.request, keepAlive: f.keepAlive, context: context)
            case .admitted(let ticket):
                forward(f, inspection: inspection, draft: draft, ticket: ticket, encoder: encoder, context: context)
            }
        }
        if core.shared == nil { return admitted(core.control.admit(identity, key: f.plumbKey, estimate: estimate, now: Timestamp.nowMicros())) }
        // Counted in Redis: the call waits for its answer (or its failure policy).
        core.admit(identity, key: f.plumbKey, estimate: estimate, on: context.eventLoop).assumeIsolated().whenComplete { [self] result in
            guard case .success(let decision) = result else { return context.close(promise: nil) }
            guard !closed else {
                if case .admitted(let t?) = decision { core.control.release(t) }
                return
            }
            admitted(decision)
        }
    }

    /// Builds the upstream request (headers, the body or its rewrite) and starts the call.
    private func forward(_ f: Forward, inspection: RequestInspection, draft: SpanDraft, ticket: ControlPlane.Ticket?,
                         encoder: ChannelHandlerContext, context: ChannelHandlerContext) {
        let forwardBody = inspection.rewrittenBody.map { ByteBuffer(bytes: $0) } ?? f.request.body
        let uri = f.target.pathPrefix + f.upstreamPath + (f.query.map { "?" + $0 } ?? "")
        var fields = f.caller.forwarded
        if f.provider.shape == .bedrock, BedrockSigning.bearerKey(fields) == nil, BedrockSigning.isModelCall(method: f.request.head.method, path: f.upstreamPath),
           let signer = core.settings.awsSigners[f.provider.name] {
            fields = BedrockSigning.fields(fields, signer: signer, method: f.request.head.method.rawValue, path: f.target.pathPrefix + f.upstreamPath,
                                           query: f.query, host: f.target.hostHeader, body: forwardBody, nowMicros: Timestamp.nowMicros())
        }
        let call = { [self] (fields: [(String, String)]) -> ProxyCall in
            let request = UpstreamRequest(method: f.request.head.method, target: uri, host: f.target.hostHeader, fields: fields, body: forwardBody)
            let call = ProxyCall(core: core, client: context, clientEncoder: encoder, target: f.target, provider: f.provider, inspection: inspection,
                                 request: request, keepAlive: f.keepAlive, draft: draft) { [weak self] keep in
                self?.finished(keepAlive: keep, context: context)
            }
            call.ticket = ticket
            self.call = call
            return call
        }
        guard f.provider.shape == .vertex, let tokens = core.settings.googleTokens[f.provider.name] else { return call(fields).start() }
        // Vertex AI with a service account: its access token replaces the caller's credentials,
        // minted off the event loop when none is cached.
        if let token = tokens.current() { return call(Self.withToken(fields, token)).start() }
        let minted = context.eventLoop.makePromise(of: String.self)
        tokens.token { minted.completeWith($0) }
        minted.futureResult.assumeIsolated().whenComplete { [self] result in
            guard !closed else {
                if let t = ticket { core.control.release(t) }
                return
            }
            switch result {
            case .success(let token): call(Self.withToken(fields, token)).start()
            case .failure(let error): call(fields).failBeforeStart(.tokenUnavailable(f.provider.name, "\(error)"))
            }
        }
    }

    /// The fields with `Authorization: Bearer <token>` in place of any credential the caller sent.
    static func withToken(_ fields: [(String, String)], _ token: String) -> [(String, String)] {
        fields.filter { !CallerHeaders.isCredential($0.0) } + [("Authorization", "Bearer " + token)]
    }

    /// A request refused by a Plumb key's allowances, a budget or a rate limit, after its body
    /// was read: answered at once, and recorded with its caller's attribution (it was
    /// authenticated, and its key or user wants to see what was refused).
    private func answerChecked(_ failure: ProxyFailure, extra: [(String, String)], draft: SpanDraft, request r: Request,
                               keepAlive: Bool, context: ChannelHandlerContext) {
        var draft = draft
        let body = failure.body()
        draft.responseBody.append(body.readableBytesView)
        ProxyFailure.write(failure, body: body, spanID: draft.span.spanID, extra: extra, keepAlive: keepAlive,
                           bodyless: r.head.method == .HEAD, to: context)
        let span = draft.finish(usage: CallUsage(), prices: core.settings.prices, status: Int(failure.status.code),
                                errorType: failure.errorType, endNanos: Monotonic.nanos())
        core.record(span)
        context.flush()
        finished(keepAlive: keepAlive, context: context)
    }

    /// `POST /_plumb/query`: run on the thread pool, its result streamed back in pieces
    /// (`QueryResponseStream`); the connection takes its next request once the result is sent.
    private func startQuery(_ endpoint: QueryEndpoint, _ r: Request, query: String?, keepAlive: Bool, context: ChannelHandlerContext) {
        if let refusal = endpoint.refusal(method: r.head.method, contentType: r.head.headers.first(name: "content-type")) {
            writeResponse(status: refusal.status, contentType: refusal.contentType, body: ByteBuffer(string: refusal.body),
                          keepAlive: keepAlive, bodyless: r.head.method == .HEAD, to: context)
            return finished(keepAlive: keepAlive, context: context)
        }
        guard core.queries.take() else {
            let busy = AdminEndpoints.failure(.serviceUnavailable, "too_many_queries",
                                              "\(ProxyCore.maxQueries) queries are running or waiting; try again shortly")
            writeResponse(status: busy.status, contentType: busy.contentType, body: ByteBuffer(string: busy.body),
                          extra: [("Retry-After", "1")], keepAlive: keepAlive, to: context)
            return finished(keepAlive: keepAlive, context: context)
        }
        let core = self.core
        let stream = QueryResponseStream(context: context, keepAlive: keepAlive, deadline: QueryDeadline(seconds: endpoint.timeoutSeconds)) { [self] keep in
            finished(keepAlive: keep, context: context)
        }
        let body = Array(r.body.readableBytesView)
        core.queryPool.submit { state in
            defer { core.queries.give() }
            guard case .active = state else {
                return stream.finish(.reply(AdminEndpoints.failure(.serviceUnavailable, "shutting_down", "Plumb is stopping")))
            }
            stream.finish(endpoint.answer(query: query, body: body, output: stream.output))
        }
    }

    /// A request refused without calling upstream: answered, and still a span (without the
    /// caller's own attribution; see `ProxyCore.recordRefused`).
    private func refuse(_ failure: ProxyFailure, routed: Bool, request r: Request, path: String, keepAlive: Bool,
                        context: ChannelHandlerContext) {
        var draft = SpanDraft(spanID: core.spanIDs(for: context.eventLoop).next(atMicros: r.startMicros), startMicros: r.startMicros, startNanos: r.startNanos,
                              method: r.head.method.rawValue, bodyCap: core.settings.maxStoredBodyBytes, storeBodies: core.settings.storeBodies)
        switch r.route {
        case .forward(let provider, let upstreamPath):
            draft.span.provider = provider.name
            draft.span.endpoint = upstreamPath
            draft.span.operation = Operation(shape: provider.shape, method: r.head.method.rawValue, path: upstreamPath).rawValue
        case .unknownProvider(let name):
            draft.span.provider = name
            draft.span.endpoint = path
        case .admin, .invalidPath:
            draft.span.endpoint = path
        }
        let body = failure.body()
        draft.responseBody.append(body.readableBytesView)
        ProxyFailure.write(failure, body: body, spanID: draft.span.spanID, keepAlive: keepAlive, bodyless: r.head.method == .HEAD, to: context)
        var span = draft.finish(usage: CallUsage(), prices: core.settings.prices, status: Int(failure.status.code),
                                errorType: failure.errorType, endNanos: Monotonic.nanos())
        span.requestBytes = Int64(r.head.headers.first(name: "content-length").flatMap { Int($0.trimmingSpaces()) } ?? r.bodyBytes)
        if case .admin = r.route {} else { core.recordRefused(span, routed: routed) }
        context.flush()      // after the record: a client holding the refusal can look its span up
        guard r.bodyUnread else { return finished(keepAlive: keepAlive, context: context) }
        // The client may still be sending the body: closing with unread bytes would reset the
        // connection, and it might never read the answer. Close our side, take (and drop) what
        // it sends for a moment, then close.
        busy = false
        closed = true
        waiting.removeAll()
        closeAfterWrites(context: context, mode: .output)
        context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
    }

    /// Whether a body follows the head (a length above 0, or chunked).
    static func hasBody(_ h: HTTPRequestHead) -> Bool {
        if let length = h.headers.first(name: "content-length").flatMap({ Int($0.trimmingSpaces()) }), length > 0 { return true }
        return h.headers.contains(name: "transfer-encoding")
    }

    static func split(_ target: String) -> (path: String, query: String?) {
        // Origin form (nearly every request): the path shares the target's storage when there
        // is no query.
        let u = target.utf8
        if u.first == UInt8(ascii: "/") {
            guard let q = u.firstIndex(of: UInt8(ascii: "?")) else { return (target, nil) }
            return (String(target[..<q]), String(target[target.index(after: q)...]))
        }
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

    /// The query without its `key=` parameters (a Plumb key is never forwarded); nil when
    /// nothing is left.
    static func removingQueryKey(_ query: String?) -> String? {
        guard let query else { return nil }
        let kept = query.split(separator: "&", omittingEmptySubsequences: false).filter { !$0.hasPrefix("key=") }
        return kept.isEmpty ? nil : kept.joined(separator: "&")
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
