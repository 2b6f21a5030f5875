import NIOCore
import NIOHTTP1
import PlumbCore

/// One proxied call, from the moment its request is complete until its span is recorded. It
/// lives on the client connection's event loop and drives both sockets from there: the request
/// goes up, the response comes back part by part as the upstream sends it, and the upstream is
/// read only as fast as the client takes the bytes (backpressure). Every way a call can end —
/// done, upstream failure, timeout, client gone — goes through `complete`, once.
final class ProxyCall: @unchecked Sendable {   // confined to the client connection's event loop
    let core: ProxyCore
    let client: ChannelHandlerContext
    /// The client pipeline's HTTP encoder's context, where the forwarded response is written.
    let clientEncoder: ChannelHandlerContext
    let target: UpstreamTarget
    let provider: Provider
    let inspection: RequestInspection
    /// The bytes for upstream, kept to send again on a fresh connection when a reused one
    /// closes before answering; let go at the answer's head (a stream lasts minutes, and
    /// thousands at once held ~2 KB each for nothing).
    private var request: UpstreamRequest?
    let method: HTTPMethod
    /// The client's connection stays open after this call (HTTP/1.1 keep-alive).
    let keepAlive: Bool
    var draft: SpanDraft
    /// Called once the call is over; `true` when the client connection can take another request.
    let onDone: (Bool) -> Void

    var upstream: Channel?
    var upstreamHandler: UpstreamHandler?
    var reused = false, retried = false
    var observer: ResponseObserver?
    /// What the call holds of its budgets and limits, settled when its span is recorded.
    var ticket: ControlPlane.Ticket?
    var responseWriter: ClientResponseWriter?
    var status = 0
    var headSent = false, done = false, upstreamKeepAlive = true
    var upstreamStart: UInt64 = 0, upstreamEndNanos: UInt64 = 0
    var firstByte: UInt64?
    var timedOut = false
    /// When the upstream last sent (or was sent) something, once the request is on its way (0
    /// before): the connection's sweeper checks it (`checkTimeout`), so a call or a chunk costs
    /// a clock read rather than a timer scheduled and cancelled.
    var lastActivity: UInt64 = 0

    init(core: ProxyCore, client: ChannelHandlerContext, clientEncoder: ChannelHandlerContext, target: UpstreamTarget, provider: Provider,
         inspection: RequestInspection, request: UpstreamRequest, keepAlive: Bool,
         draft: SpanDraft, onDone: @escaping (Bool) -> Void) {
        self.core = core; self.client = client; self.clientEncoder = clientEncoder; self.target = target; self.provider = provider
        self.inspection = inspection; self.request = request; self.method = request.method
        self.keepAlive = keepAlive; self.draft = draft; self.onDone = onDone
    }

    var pool: UpstreamPool { core.pool(for: client.eventLoop) }
    var timeoutAmount: TimeAmount { .nanoseconds(Int64(core.settings.upstreamTimeoutSeconds * 1e9)) }

    func start() {
        core.callStarted()
        upstreamStart = Monotonic.nanos()
        pool.acquire(target, connectTimeout: .seconds(10)).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let (channel, reused)): send(on: channel, reused: reused)
            case .failure(let error): fail(.unreachable(provider.name, Self.describe(error)))
            }
        }
    }

    private func send(on channel: Channel, reused: Bool) {
        guard !done else { pool.release(channel, target); return }
        upstream = channel
        self.reused = reused
        guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self) else {
            channel.close(promise: nil)
            fail(.unreachable(provider.name, "connection setup failed"))
            return
        }
        guard let request else { return fail(.unreachable(provider.name, "connection setup failed")) }
        handler.call = self
        handler.expect(method)
        upstreamHandler = handler
        if let body = request.body {
            channel.write(request.head, promise: nil)
            channel.writeAndFlush(body, promise: nil)
        } else {
            channel.writeAndFlush(request.head, promise: nil)
        }
        armTimeout()
    }

    /// The upstream must send its next bytes within `upstream_timeout`.
    private func armTimeout() {
        lastActivity = Monotonic.nanos()
    }

    /// The sweeper's check (about once a second, so up to a second late): the upstream has
    /// sent nothing for `upstream_timeout` since the request went up or its last bytes came.
    func checkTimeout(now: UInt64) {
        guard !done, lastActivity != 0, Int64(now &- lastActivity) >= timeoutAmount.nanoseconds else { return }
        timedOut = true
        if headSent { abort(errorType: "upstream_timeout") }
        else { detachUpstream(close: true); fail(.timeout(provider.name, seconds: core.settings.upstreamTimeoutSeconds)) }
    }

    // MARK: The upstream's answer

    func upstreamHead(_ head: UpstreamResponseHead) {
        guard !done else { return }
        armTimeout()
        status = head.code
        upstreamKeepAlive = head.isKeepAlive
        let contentType = head.first("content-type")
        let sse = contentType.map(Self.isEventStream) ?? false
        // Bedrock's streams are AWS event streams (binary frames), relayed as they come too.
        let awsEvents = provider.shape == .bedrock && contentType.map { ASCIICase.hasPrefix($0, "application/vnd.amazon.eventstream") } == true
        let filter = inspection.injectedUsage && sse
        observer = ResponseObserver(shape: provider.shape, path: draft.span.endpoint, sse: sse, awsEventStream: awsEvents, filterUsage: filter,
                                    bodyCap: core.settings.maxStoredBodyBytes)
        if provider.shape == .bedrock {
            // InvokeModel gives its token counts in the head, whatever the model's body says.
            func count(_ v: ArraySlice<UInt8>?) -> Int64? { v.flatMap { Int64(String(decoding: $0, as: UTF8.self)) } }
            observer?.headerCounts = (count(head.first("x-amzn-bedrock-input-token-count")), count(head.first("x-amzn-bedrock-output-token-count")))
        }
        request = nil
        responseWriter = ClientResponseWriter(below: clientEncoder, method: method, head: head, filtering: filter,
                                              spanID: draft.span.spanID, close: !keepAlive, extra: ticket?.headers ?? [])
        headSent = true
        // A stream's head goes to the client at once, before its events are scanned for usage
        // (one write more a stream; an answer that is not a stream goes out in one write).
        if sse || awsEvents { client.flush() }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard !done, let observer, let responseWriter else { return }
        if firstByte == nil { firstByte = Monotonic.nanos() }
        responseWriter.write(observer.pass(buffer) ?? buffer)
    }

    func upstreamReadComplete() {
        guard !done else { return }
        armTimeout()
        client.flush()
    }

    /// Whether the upstream may be read again now: the client's socket takes more bytes.
    var clientTakesMore: Bool { done || client.channel.isWritable }

    /// The client drained its buffer: read the upstream again.
    func clientWritable() {
        guard !done else { return }
        upstreamHandler?.releaseRead()
    }

    func upstreamEnd() {
        guard !done else { return }
        upstreamEndNanos = Monotonic.nanos()
        if let tail = observer?.finish() { responseWriter?.write(tail) }
        // A chunked answer is not whole until its last chunk: what came so far goes to the
        // client now, before the span is built (a stream that arrived in one read included);
        // the last chunk follows once the span is recorded (`complete`).
        if responseWriter?.framing == .chunked { client.flush() }
        responseWriter?.end()
        detachUpstream(close: !upstreamKeepAlive)
        complete(errorType: Self.errorType(status: status, usage: observer?.usage), keepAlive: keepAlive)
    }

    func upstreamClosed(error: Error?) {
        guard !done else { return }
        if !headSent && reused && !retried && !timedOut {
            // A pooled connection the upstream had closed meanwhile: once more on a fresh one.
            retried = true
            detachUpstream(close: true)
            pool.acquire(target, connectTimeout: .seconds(10)).assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success(let (channel, _)): send(on: channel, reused: false)
                case .failure(let error): fail(.unreachable(provider.name, Self.describe(error)))
                }
            }
            return
        }
        if headSent { abort(errorType: "stream_reset") }
        else {
            detachUpstream(close: true)
            fail(.unreachable(provider.name, error.map(Self.describe) ?? "the connection closed before a response"))
        }
    }

    /// The client went away.
    func clientGone() {
        guard !done else { return }
        detachUpstream(close: true)
        complete(errorType: "client_cancelled", keepAlive: false)
    }

    // MARK: Endings

    /// Cut the stream for the client too, rather than end it as if complete.
    private func abort(errorType: String) {
        upstreamEndNanos = Monotonic.nanos()
        detachUpstream(close: true)
        complete(errorType: errorType, keepAlive: false)      // recorded first; then onDone closes the client
    }

    /// A call that cannot go upstream at all (no access token to send): answered and recorded
    /// as a failed call, counted as begun and ended like any other.
    func failBeforeStart(_ failure: ProxyFailure) {
        core.callStarted()
        upstreamStart = Monotonic.nanos()
        fail(failure)
    }

    /// A failure Plumb answers itself (nothing was sent to the client yet).
    func fail(_ failure: ProxyFailure) {
        guard !done else { return }
        upstreamEndNanos = Monotonic.nanos()
        let body = failure.body()
        draft.responseBody.append(body.readableBytesView)
        ProxyFailure.write(failure, body: body, spanID: draft.span.spanID, keepAlive: keepAlive, bodyless: method == .HEAD, to: client)
        status = Int(failure.status.code)
        complete(errorType: failure.errorType, keepAlive: keepAlive, usage: CallUsage())
    }

    private func detachUpstream(close: Bool) {
        guard let channel = upstream else { return }
        upstream = nil
        upstreamHandler?.call = nil
        upstreamHandler = nil
        if close { channel.close(promise: nil) } else { pool.release(channel, target) }
    }

    private func complete(errorType: String?, keepAlive: Bool, usage: CallUsage? = nil) {
        guard !done else { return }
        done = true
        if upstreamEndNanos == 0 { upstreamEndNanos = Monotonic.nanos() }
        draft.span.upstreamMs = Monotonic.millis(from: upstreamStart, to: upstreamEndNanos)
        if inspection.stream || observer?.sse == true, let firstByte { draft.span.ttftMs = Monotonic.millis(from: draft.startNanos, to: firstByte) }
        if let observer { draft.responseBody = observer.capture }
        let span = draft.finish(usage: usage ?? observer?.usage ?? CallUsage(), prices: core.settings.prices, status: status,
                                errorType: errorType, endNanos: Monotonic.nanos())
        if let ticket { core.settle(ticket, span: span, on: client.eventLoop) }
        core.record(span)
        // The answer's last bytes go out only now: whoever holds the whole answer can read its span.
        client.flush()
        core.callEnded()
        onDone(keepAlive)
    }

    /// What went wrong, from an answer that arrived whole: the provider's content filter
    /// (whatever the status), a refused credential, a rate limit, a server error.
    static func errorType(status: Int, usage: CallUsage?) -> String? {
        if usage?.contentFiltered == true { return "content_filtered" }
        // An exception frame of an AWS event stream, the status already 200.
        if let code = usage?.errorCode, code.hasSuffix("Exception") || code == "exception" {
            return code == "throttlingException" ? "rate_limited" : "upstream_stream_error"
        }
        switch status {
        case 401, 403: return "auth_failed"
        case 429: return "rate_limited"
        case 500...: return "upstream_5xx"
        default: return nil
        }
    }

    /// `text/event-stream`, in any case, with or without parameters (no lowercased copy).
    static func isEventStream<Bytes: Sequence<UInt8>>(_ contentType: Bytes) -> Bool {
        ASCIICase.hasPrefix(contentType, "text/event-stream")
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? ChannelError, case .connectTimeout = e { return "connection timed out" }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("errno: 111") { return "connection refused" }
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
