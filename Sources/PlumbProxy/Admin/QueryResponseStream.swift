import Foundation
import NIOCore
import NIOHTTP1
import PlumbCore
import PlumbQuery

/// Carries a query's result from the thread it runs on to the client's connection: pieces go
/// out as chunks as the query makes them, and the query waits while the client is not reading,
/// so a result of gigabytes holds one batch's text in memory, not the result. A result that fits in one piece is sent
/// whole, with its length; one that fails after its first piece went out is cut short (no final
/// chunk), so that no client mistakes it for the whole result.
///
/// ```swift
/// let stream = QueryResponseStream(context: context, keepAlive: true, deadline: QueryDeadline(seconds: 30)) { keep in ... }
/// stream.finish(endpoint.answer(query: nil, body: sql, output: stream.output))   // on the query's thread
/// ```
final class QueryResponseStream: @unchecked Sendable {   // `started` is touched by the query's thread only
    struct Connection {
        let context: ChannelHandlerContext
        /// The response is over; `true`: the connection can take another request.
        let done: (Bool) -> Void
    }

    struct ClientGone: Error {}
    /// The client took nothing for `stallSeconds`: the query gives its thread back.
    struct ClientStalled: Error {}
    static let stallSeconds: Double = 10

    private let loop: EventLoop
    private let channel: Channel
    private let connection: NIOLoopBound<Connection>
    private let keepAlive: Bool
    private let deadline: QueryDeadline
    private var started = false

    init(context: ChannelHandlerContext, keepAlive: Bool, deadline: QueryDeadline, done: @escaping (Bool) -> Void) {
        loop = context.eventLoop
        channel = context.channel
        connection = NIOLoopBound(Connection(context: context, done: done), eventLoop: context.eventLoop)
        self.keepAlive = keepAlive
        self.deadline = deadline
    }

    var output: QueryEndpoint.Output { QueryEndpoint.Output(send: { [self] piece, type in try send(piece, type) }) }

    private func send(_ piece: [UInt8], _ contentType: String) throws {
        // A client that does not read holds the query here, not its result in memory; and not
        // for long: past `stallSeconds` (or query_timeout) the result is cut.
        let waitStart = Monotonic.nanos()
        while !channel.isWritable {
            guard channel.isActive else { throw ClientGone() }
            try deadline.check()
            guard Monotonic.nanos() &- waitStart < UInt64(Self.stallSeconds * 1e9) else { throw ClientStalled() }
            usleep(1_000)
        }
        guard channel.isActive else { throw ClientGone() }
        let first = !started
        started = true
        let keepAlive = self.keepAlive
        loop.execute { [connection] in
            let context = connection.value.context
            if first {
                var headers = HTTPHeaders([("Content-Type", contentType), ("Transfer-Encoding", "chunked")])
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            }
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: piece)))), promise: nil)
        }
    }

    /// The query is over: the answer, the rest of the result, or a cut.
    func finish(_ outcome: QueryEndpoint.Outcome) {
        let keepAlive = self.keepAlive
        loop.execute { [connection] in
            let context = connection.value.context
            switch outcome {
            case .reply(let reply):
                writeResponse(status: reply.status, contentType: reply.contentType, body: ByteBuffer(string: reply.body),
                              keepAlive: keepAlive, to: context)
                connection.value.done(keepAlive)
            case .streamed(let rest):
                if !rest.isEmpty { context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: rest)))), promise: nil) }
                context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                connection.value.done(keepAlive)
            case .cut:
                context.close(promise: nil)
                connection.value.done(false)
            }
        }
    }
}
