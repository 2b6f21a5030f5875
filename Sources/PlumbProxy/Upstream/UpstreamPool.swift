import NIOCore
import NIOPosix
import NIOSSL

/// Keep-alive connections to the upstreams, one pool per event loop: a call uses a connection on
/// the loop that serves its client, so bytes move between the two sockets without a thread hop.
/// Only touched on its own event loop.
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: EventLoop
    let tls: NIOSSLContext
    private var idle: [UpstreamTarget: [Channel]] = [:]
    static let maxIdlePerTarget = 128

    init(eventLoop: EventLoop, tls: NIOSSLContext) {
        self.eventLoop = eventLoop
        self.tls = tls
    }

    /// An idle connection to `target`, or a new one. `reused` says which (a reused connection
    /// may have been closed by the upstream meanwhile; the caller retries once on a new one).
    func acquire(_ target: UpstreamTarget, connectTimeout: TimeAmount) -> EventLoopFuture<(Channel, reused: Bool)> {
        eventLoop.assertInEventLoop()
        // Popped in place (a copy of the list would be copied again on write).
        while let channel = idle[target]?.popLast() {
            if channel.isActive { return eventLoop.makeSucceededFuture((channel, true)) }
        }
        let tls = self.tls
        return ClientBootstrap(group: eventLoop)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if target.tls {
                        try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: target.hostIsIPAddress ? nil : target.host))
                    }
                    // Requests go as bytes (UpstreamRequest); responses are parsed by UpstreamHandler.
                    try sync.addHandler(UpstreamHandler())
                }
            }
            .connect(host: target.host, port: target.port)
            .map { ($0, false) }
    }

    /// Back to the pool after a complete response on a keep-alive connection.
    func release(_ channel: Channel, _ target: UpstreamTarget) {
        eventLoop.assertInEventLoop()
        guard channel.isActive, idle[target, default: []].count < Self.maxIdlePerTarget else {
            channel.close(promise: nil)
            return
        }
        idle[target, default: []].append(channel)
        // An idle connection that the upstream closes drops out: isActive turns false.
    }

    func closeAll() {
        for list in idle.values { for c in list { c.close(promise: nil) } }
        idle = [:]
    }
}
