import NIOCore
import NIOHTTP1

/// The upstream end of a call: parses the response (`UpstreamResponseParser`, bytes straight
/// from the socket) and hands its parts to the call that owns the connection (on the same event
/// loop), and tells it when a read batch ends or the connection goes. Requests go out as the
/// bytes `UpstreamRequest` built.
///
/// The connection reads on its own (`autoRead`); the next read is held back here only while the
/// client cannot take more bytes (backpressure), and released when it can. Reading on request
/// instead would cost two `epoll_ctl` calls per response.
final class UpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The call using this connection now; nil while it idles in the pool (then reads go on, so
    /// a connection the upstream closes is noticed and dropped).
    var call: ProxyCall? {
        didSet { if call == nil { releaseRead() } }
    }
    /// The response being read; a new one starts with the next read after a call says what it
    /// sent (`expect`), never in the middle of a parse that hands a part to a call.
    private var parser: UpstreamResponseParser?
    private var nextMethod: HTTPMethod?
    private var readHeld = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// The call about to send a request with `method` on this connection.
    func expect(_ method: HTTPMethod) {
        nextMethod = method
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard call != nil else {
            // Bytes no request asked for (an idle pooled connection): it cannot be trusted again.
            context.close(promise: nil)
            return
        }
        if parser?.isComplete ?? true, let method = nextMethod {
            parser = UpstreamResponseParser(method: method)
            nextMethod = nil
        }
        do {
            try parser?.feed(&buffer) { part in self.deliver(part) }
        } catch {
            call?.upstreamClosed(error: error)
            context.close(promise: nil)
            return
        }
        // Bytes after a complete response: the connection is out of step; drop it.
        if parser?.trailingBytes == true { context.close(promise: nil) }
    }

    private func deliver(_ part: UpstreamResponseParser.Part) {
        guard let call else { return }
        switch part {
        case .head(let head): call.upstreamHead(head)
        case .body(let buffer): call.upstreamBody(buffer)
        case .end: call.upstreamEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        call?.upstreamReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if let call, !call.clientTakesMore { readHeld = true } else { context.read() }
    }

    /// The client drained its buffer (or the call is over): read again if a read was held.
    func releaseRead() {
        guard readHeld, let context else { return }
        readHeld = false
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if call != nil, var parser, nextMethod == nil {
            // A body that runs to the close ends here; any other response was cut short.
            do {
                try parser.inputClosed { part in self.deliver(part) }
                self.parser = parser
            } catch {
                call?.upstreamClosed(error: error)
            }
        }
        call?.upstreamClosed(error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        call?.upstreamClosed(error: error)
        context.close(promise: nil)
    }
}
