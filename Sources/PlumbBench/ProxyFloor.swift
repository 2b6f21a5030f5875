import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `plumb-bench proxy-floor --upstream PORT --listen PORT [--http]`: the least a Swift NIO
/// proxy can cost on this machine, measured beside Plumb by tools/bench/proxy_bench.sh (issue 24).
/// It does none of Plumb's work (no routing, span, usage or store): the raw mode relays bytes,
/// framing each message by its Content-Length; `--http` puts NIO's HTTP/1 codecs on both sides
/// and relays the parsed parts, adding one response header as Plumb does. What Plumb costs above
/// the second is its own; what the second costs above the first is the codecs'.
///
/// A measuring instrument, not a proxy: a client connection takes an idle upstream connection
/// of its event loop (or opens one) and gives it back when it closes, as Plumb's pool does;
/// Content-Length framing only (the static upstream's answers have it), no limits, no timeouts.
/// Loopback only.
///
/// ```
/// plumb-bench proxy-floor --upstream 18180 --listen 18183          # raw bytes
/// plumb-bench proxy-floor --upstream 18180 --listen 18184 --http   # NIO's HTTP/1 codecs
/// ```
enum ProxyFloor {
    static func run(_ args: [String]) -> Int32 {
        func value(_ name: String) -> Int? { args.firstIndex(of: name).flatMap { args.indices.contains($0 + 1) ? Int(args[$0 + 1]) : nil } }
        guard let upstream = value("--upstream"), let listen = value("--listen") else {
            FileHandle.standardError.write(Data("usage: plumb-bench proxy-floor --upstream PORT --listen PORT [--http]\n".utf8))
            return 2
        }
        let http = args.contains("--http")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        do {
            let server = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if http {
                            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
                            try channel.pipeline.syncOperations.addHandler(HTTPClientSide(upstreamPort: upstream))
                        } else {
                            try channel.pipeline.syncOperations.addHandler(RawClientSide(upstreamPort: upstream))
                        }
                    }
                }
                .bind(host: "127.0.0.1", port: listen).wait()
            print("proxy-floor (\(http ? "http" : "raw")) listening on http://127.0.0.1:\(listen)")
            try server.closeFuture.wait()
            return 0
        } catch {
            FileHandle.standardError.write(Data("proxy-floor: \(error)\n".utf8))
            return 1
        }
    }

    /// Opens an upstream connection on `loop`.
    static func connect(port: Int, on loop: EventLoop, handlers: @escaping @Sendable (Channel) throws -> Void) -> EventLoopFuture<Channel> {
        ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try handlers(channel) } }
            .connect(host: "127.0.0.1", port: port)
    }
}

/// Idle upstream connections by event loop, each with its relay handler, for the next client
/// connection of that loop.
final class FloorPool<Relay: AnyObject>: @unchecked Sendable {   // guarded by `lock`
    private let lock = NSLock()
    private var idle: [ObjectIdentifier: [(Channel, Relay)]] = [:]

    func take(on loop: EventLoop) -> (Channel, Relay)? {
        lock.lock(); defer { lock.unlock() }
        while let entry = idle[ObjectIdentifier(loop)]?.popLast() { if entry.0.isActive { return entry } }
        return nil
    }

    /// A client connection closed: its upstream connection waits for the next one, unless a
    /// response was still coming on it (then it is closed).
    func give(_ channel: Channel, _ relay: Relay, midResponse: Bool) {
        if midResponse { channel.close(promise: nil); return }
        guard channel.isActive else { return }
        lock.lock(); defer { lock.unlock() }
        idle[ObjectIdentifier(channel.eventLoop), default: []].append((channel, relay))
    }
}

// MARK: Raw bytes

/// Where a message's head ends (after its blank line) and how long its body is.
enum RawFraming {
    static func length(of buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { p in
            guard p.count >= 4 else { return nil }
            var i = 0
            while i <= p.count - 4 {
                if p[i] == 13 && p[i + 1] == 10 && p[i + 2] == 13 && p[i + 3] == 10 { return i + 4 + contentLength(p, headEnd: i) }
                i += 1
            }
            return nil
        }
    }

    private static func contentLength(_ p: UnsafeRawBufferPointer, headEnd: Int) -> Int {
        let key = Array("\ncontent-length:".utf8)
        var i = 0
        while i + key.count < headEnd {
            var k = 0
            while k < key.count, (p[i + k] >= 65 && p[i + k] <= 90 ? p[i + k] | 0x20 : p[i + k]) == key[k] { k += 1 }
            if k == key.count {
                var j = i + k, n = 0
                while p[j] == 32 { j += 1 }
                while p[j] >= 48 && p[j] <= 57 { n = n * 10 + Int(p[j] - 48); j += 1 }
                return n
            }
            i += 1
        }
        return 0
    }
}

final class RawClientSide: ChannelInboundHandler, @unchecked Sendable {   // confined to its event loop
    typealias InboundIn = ByteBuffer
    static let pool = FloorPool<RawUpstreamSide>()
    let upstreamPort: Int
    var context: ChannelHandlerContext?
    var upstream: Channel?
    var pending = ByteBuffer()
    var busy = false
    var relay = RawUpstreamSide()

    init(upstreamPort: Int) { self.upstreamPort = upstreamPort }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        forwardNext()
    }

    func forwardNext() {
        guard !busy, let context, let total = RawFraming.length(of: pending), pending.readableBytes >= total,
              let request = pending.readSlice(length: total) else { return }
        if pending.readableBytes == 0 { pending.clear() }
        busy = true
        if upstream == nil, let (channel, idle) = Self.pool.take(on: context.eventLoop) { upstream = channel; relay = idle }
        relay.client = self
        if let upstream { upstream.writeAndFlush(NIOAny(request), promise: nil); return }
        ProxyFloor.connect(port: upstreamPort, on: context.eventLoop) { [relay] channel in
            try channel.pipeline.syncOperations.addHandler(relay)
        }.assumeIsolated().whenComplete { [self] result in
            guard case .success(let channel) = result else { self.context?.close(promise: nil); return }
            upstream = channel
            channel.writeAndFlush(NIOAny(request), promise: nil)
        }
    }

    func responseEnded() { busy = false; forwardNext() }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        relay.client = nil
        if let upstream { Self.pool.give(upstream, relay, midResponse: busy) }
    }
}

final class RawUpstreamSide: ChannelInboundHandler, @unchecked Sendable {   // confined to its event loop
    typealias InboundIn = ByteBuffer
    weak var client: RawClientSide?
    var head = ByteBuffer()
    /// Bytes of the current response still to come; nil until its head is complete.
    var remaining: Int?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard let client, let out = client.context else { return }
        if remaining == nil {
            head.writeBuffer(&bytes)
            guard let total = RawFraming.length(of: head) else { return }
            remaining = total
            bytes = head
            head = ByteBuffer()
        }
        remaining! -= bytes.readableBytes
        out.write(NIOAny(bytes), promise: nil)
        if remaining! <= 0 {
            remaining = nil
            out.flush()
            client.responseEnded()
        }
    }

    func channelInactive(context: ChannelHandlerContext) { client?.context?.close(promise: nil) }
}

// MARK: NIO's HTTP/1 codecs

final class HTTPClientSide: ChannelInboundHandler, @unchecked Sendable {   // confined to its event loop
    typealias InboundIn = HTTPServerRequestPart
    static let pool = FloorPool<HTTPUpstreamSide>()
    let upstreamPort: Int
    var context: ChannelHandlerContext?
    var upstream: Channel?
    var head: HTTPRequestHead?
    var body = ByteBuffer()
    var relay = HTTPUpstreamSide()
    var busy = false

    init(upstreamPort: Int) { self.upstreamPort = upstreamPort }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h; body.clear()
        case .body(var b): body.writeBuffer(&b)
        case .end:
            guard var h = head else { return }
            h.headers.replaceOrAdd(name: "host", value: "127.0.0.1:\(upstreamPort)")
            send(h, body)
        }
    }

    private func send(_ h: HTTPRequestHead, _ body: ByteBuffer) {
        let write: (Channel) -> Void = { channel in
            channel.write(NIOAny(HTTPClientRequestPart.head(h)), promise: nil)
            channel.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(body))), promise: nil)
            channel.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
        }
        guard let context else { return }
        busy = true
        if upstream == nil, let (channel, idle) = Self.pool.take(on: context.eventLoop) { upstream = channel; relay = idle }
        relay.client = self
        if let upstream { return write(upstream) }
        ProxyFloor.connect(port: upstreamPort, on: context.eventLoop) { [relay] channel in
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(relay)
        }.assumeIsolated().whenComplete { [self] result in
            guard case .success(let channel) = result else { self.context?.close(promise: nil); return }
            upstream = channel
            write(channel)
        }
    }

    func responseEnded() { busy = false }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        relay.client = nil
        if let upstream { Self.pool.give(upstream, relay, midResponse: busy) }
    }
}

final class HTTPUpstreamSide: ChannelInboundHandler, @unchecked Sendable {   // confined to its event loop
    typealias InboundIn = HTTPClientResponsePart
    weak var client: HTTPClientSide?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let out = client?.context else { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            var headers = h.headers
            headers.add(name: "Plumb-Span-Id", value: "0000000000000000")
            out.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: h.status, headers: headers))), promise: nil)
        case .body(let b):
            out.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(b))), promise: nil)
        case .end:
            out.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
            client?.responseEnded()
        }
    }

    func channelInactive(context: ChannelHandlerContext) { client?.context?.close(promise: nil) }
}
