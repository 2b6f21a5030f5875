import NIOCore
import NIOHTTP1

/// The upstream end of a call: hands the response parts to the call that owns the connection
/// (on the same event loop) and tells it when a read batch ends or the connection goes.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// The call using this connection now; nil while it idles in the pool.
    var call: ProxyCall?

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

    func channelInactive(context: ChannelHandlerContext) {
        call?.upstreamClosed(error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        call?.upstreamClosed(error: error)
        context.close(promise: nil)
    }
}
