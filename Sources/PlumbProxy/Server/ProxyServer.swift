import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PlumbCore
import PlumbExport
import PlumbStore

/// `plumb serve`: the HTTP server in front of the providers, recording every call in the store.
/// Built on SwiftNIO channel handlers: a call's client and upstream sockets share one event loop,
/// so forwarding costs no thread hops (a request through Hummingbird and AsyncHTTPClient's async
/// layers measured about 3 times the CPU and 0.7 ms more latency).
///
/// ```swift
/// let server = try ProxyServer(settings: settings, store: store)
/// try await server.run()     // until SIGINT/SIGTERM; calls in flight finish first
/// ```
public struct ProxyServer: Sendable {
    let core: ProxyCore
    let group: EventLoopGroup
    /// What the server changed from its settings, for the operator (one line each).
    public let notes: [String]

    public init(settings: ProxySettings, store: SpanStore, exporters: [Exporter] = []) throws {
        let fingerprint = try KeyFingerprint(dataDirectory: store.directory.path)
        group = MultiThreadedEventLoopGroup.singleton
        var settings = settings
        var notes: [String] = []
        let files = FileLimit.raise()
        let room = FileLimit.connections(forLimit: files)
        if settings.maxConnections > room {
            notes.append("max_connections lowered from \(settings.maxConnections) to \(room): the open-file limit is \(files) (raise it with ulimit -n)")
            settings.maxConnections = room
        }
        self.notes = notes
        core = try ProxyCore(settings: settings, store: store, fingerprint: fingerprint, group: group, exporters: exporters)
    }

    /// Serves until SIGINT or SIGTERM; `onListening` gets the bound port (for `--listen HOST:0`).
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let core = self.core
        let listen = core.settings.listen
        let channel: Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 1024)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        // Pipelining and malformed requests are handled by ProxyConnectionHandler
                        // itself, in order. Outbound header validation is off: every header Plumb
                        // writes is either parsed from a peer (which rejects CR, LF and NUL) or
                        // its own constant text.
                        try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false,
                                                             withOutboundHeaderValidation: false)
                        try sync.addHandler(ProxyConnectionHandler(core: core))
                    }
                }
                .bind(host: listen.host, port: listen.port).get()
        } catch {
            throw ProxySetupError("cannot listen on \(listen): \(error)")
        }
        // Handlers first: a SIGTERM sent as soon as the address is printed must stop the server cleanly.
        let signals = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { channel.close(promise: nil) }
            source.resume()
            return source
        }
        await onListening(channel.localAddress?.port ?? listen.port)
        try? await channel.closeFuture.get()
        for s in signals { s.cancel() }
        // Calls in flight get a moment to finish and record their spans.
        let deadline = Date().addingTimeInterval(5)
        while core.hasCallsInFlight && Date() < deadline { try? await Task.sleep(nanoseconds: 50_000_000) }
        core.closePools()
    }
}
