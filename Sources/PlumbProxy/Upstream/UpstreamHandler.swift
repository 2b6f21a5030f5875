import NIOCore
import NIOHTTP1

/// The upstream end of a call: hands the response parts to the call that owns the connection
/// (on the same event loop) and tells it when a read batch ends or the connection goes.
///
/// The connection reads on its own (`autoRead`); the next read is held back here only while the
/// client cannot take more bytes (backpressure), and released when it can. Reading on request
/// instead would cost two `epoll_ctl` calls per response.
final class UpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The call using this connection now; nil while it idles in the pool (then reads go on, so
    /// a connection the upstream closes is noticed and dropped).
    var call: ProxyCall? {
        didSet { if call == nil { releaseRead() } }
    }
    private var readHeld = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let call else { return }
        switch unwrapInboundIn(data) {
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
        call?.upstreamClosed(error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        call?.upstreamClosed(error: error)
        context.close(promise: nil)
    }
}
