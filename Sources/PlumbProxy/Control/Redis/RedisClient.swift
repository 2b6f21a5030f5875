import NIOCore
import NIOPosix
import PlumbCore

/// One connection to Redis for one event loop, commands pipelined and answered in order.
/// Each command has a deadline: past it the command fails and the connection is closed (the
/// replies behind it would no longer line up). After a failed connect, commands fail at once
/// for a second before the next attempt, so an unreachable Redis costs a call nothing.
///
/// ```swift
/// let redis = RedisClient(eventLoop: loop, endpoint: endpoint, timeout: .milliseconds(100))
/// redis.send(["INCR", "k"]).whenSuccess { reply in … }      // on `loop`
/// ```
final class RedisClient: @unchecked Sendable {   // confined to `eventLoop`
    let eventLoop: EventLoop
    let endpoint: RedisEndpoint
    let timeout: TimeAmount

    enum State {
        case idle
        case connecting(EventLoopFuture<Channel>)
        case connected(Channel, RedisReplyHandler)
        /// A connect failed: commands fail until then.
        case resting(until: NIODeadline, reason: String)
    }

    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    private var state = State.idle
    /// SHA1s of the scripts loaded (`SCRIPT LOAD`), by name: a call sends EVALSHA and the
    /// arguments, not the script's text.
    private var loaded: [String: String] = [:]

    init(eventLoop: EventLoop, endpoint: RedisEndpoint, timeout: TimeAmount) {
        self.eventLoop = eventLoop; self.endpoint = endpoint; self.timeout = timeout
    }

    func send(_ parts: [String]) -> EventLoopFuture<RESPValue> {
        eventLoop.preconditionInEventLoop()
        switch state {
        case .connected(let channel, let handler):
            return handler.enqueue(parts, channel: channel, timeout: timeout)
        case .connecting(let connected):
            return connected.flatMap { [self] _ in send(parts) }
        case .resting(let until, let reason) where NIODeadline.now() < until:
            return eventLoop.makeFailedFuture(Unavailable(description: "Redis at \(endpoint) is unreachable: \(reason)"))
        case .idle, .resting:
            connect()
            return send(parts)
        }
    }

    /// Runs a Lua script by its SHA1, loading it first when Redis does not have it (a new
    /// connection, or a Redis restarted or flushed: `NOSCRIPT`).
    func eval(_ name: String, script: String, _ args: [String]) -> EventLoopFuture<RESPValue> {
        guard let sha = loaded[name] else {
            return send(["SCRIPT", "LOAD", script]).flatMap { [self] reply in
                guard case .bulk(let b?) = reply else { return send(["EVAL", script, "0"] + args) }
                loaded[name] = String(decoding: b, as: UTF8.self)
                return eval(name, script: script, args)
            }
        }
        return send(["EVALSHA", sha, "0"] + args).flatMap { [self] reply in
            if case .error(let e) = reply, e.hasPrefix("NOSCRIPT") {
                loaded[name] = nil
                return send(["EVAL", script, "0"] + args)
            }
            return eventLoop.makeSucceededFuture(reply)
        }
    }

    private func connect() {
        let handler = RedisReplyHandler()
        let endpoint = self.endpoint, timeout = self.timeout
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout * 5)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) } }
            .connect(host: endpoint.host, port: endpoint.port)
            .flatMap { channel -> EventLoopFuture<Channel> in
                // AUTH and SELECT first, in the pipeline, before any command.
                var setup: [EventLoopFuture<RESPValue>] = []
                if let password = endpoint.password { setup.append(handler.enqueue(["AUTH", password], channel: channel, timeout: timeout * 5)) }
                if endpoint.database != 0 { setup.append(handler.enqueue(["SELECT", String(endpoint.database)], channel: channel, timeout: timeout * 5)) }
                return EventLoopFuture.whenAllSucceed(setup, on: channel.eventLoop).flatMapThrowing { replies in
                    if case .error(let e)? = replies.first(where: { if case .error = $0 { true } else { false } }) {
                        channel.close(promise: nil)
                        throw Unavailable(description: "Redis refused the connection's setup: \(e.prefix(200))")
                    }
                    return channel
                }
            }
        state = .connecting(connected)
        connected.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                state = .connected(channel, handler)
                channel.closeFuture.assumeIsolated().whenComplete { [self] _ in
                    if case .connected(let c, _) = state, c === channel { state = .idle }
                }
            case .failure(let error):
                state = .resting(until: .now() + .seconds(1), reason: "\(error)")
            }
        }
    }

    func close() {
        if case .connected(let c, _) = state { c.close(promise: nil) }
        state = .idle
    }
}

/// Matches replies to commands in order; fails every waiting command when the connection ends.
final class RedisReplyHandler: ChannelInboundHandler, @unchecked Sendable {   // confined to its channel's loop
    typealias InboundIn = ByteBuffer
    private var decoder = RESPDecoder()
    private var waiting = CircularBuffer<(promise: EventLoopPromise<RESPValue>, timer: Scheduled<Void>)>()

    func enqueue(_ parts: [String], channel: Channel, timeout: TimeAmount) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        guard channel.isActive else {
            promise.fail(RedisClient.Unavailable(description: "the Redis connection is closed"))
            return promise.futureResult
        }
        var out = channel.allocator.buffer(capacity: 64)
        RESPValue.command(parts, into: &out)
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(RedisClient.Unavailable(description: "Redis did not answer within \(timeout.nanoseconds / 1_000_000) ms"))
            channel.close(promise: nil)
        }
        waiting.append((promise, timer))
        channel.writeAndFlush(out, promise: nil)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        decoder.feed(bytes.readableBytesView)
        do {
            while let reply = try decoder.next() {
                guard let w = waiting.popFirst() else { throw RESPDecoder.Malformed(description: "a reply nobody asked for") }
                w.timer.cancel()
                w.promise.succeed(reply)
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisClient.Unavailable(description: "the Redis connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        while let w = waiting.popFirst() {
            w.timer.cancel()
            w.promise.fail(error)
        }
    }
}

/// `redis://[:PASSWORD@]HOST[:PORT][/DB]` (the password may instead come from
/// `PLUMB_REDIS_PASSWORD`).
struct RedisEndpoint: Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    var database: Int
    var password: String?

    init(url: String, password envPassword: String?) throws {
        guard url.hasPrefix("redis://"), let c = URLComponentsLite(url.dropFirst("redis://".count)) else {
            throw PlumbConfig.Error("control.redis must be redis://HOST[:PORT][/DB], got '\(url.prefix(100))'")
        }
        host = c.host; port = c.port ?? 6379; database = c.database; password = envPassword ?? c.password
    }

    /// Never the password.
    var description: String { "redis://\(host):\(port)/\(database)" }
}

/// Splits `[:PASSWORD@]HOST[:PORT][/DB]`.
struct URLComponentsLite {
    var host: String
    var port: Int?
    var database = 0
    var password: String?

    init?<S: StringProtocol>(_ text: S) {
        var rest = Substring(text)
        if let at = rest.lastIndex(of: "@") {
            let user = rest[..<at]
            password = user.hasPrefix(":") ? String(user.dropFirst()) : (user.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init))
            rest = rest[rest.index(after: at)...]
        }
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty { guard let n = Int(db), n >= 0, n < 1000 else { return nil }; database = n }
            rest = rest[..<slash]
        }
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            rest = rest[..<colon]
        }
        guard !rest.isEmpty, rest.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        host = String(rest)
    }
}
