import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PlumbAlerts
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
        core = try ProxyCore(settings: settings, store: store, fingerprint: fingerprint, group: group, exporters: exporters)
        // Budgets start from what their period has already spent (before any call is taken).
        let keys = core.keys.live()
        if core.control.hasRules || keys.contains(where: { $0.budget != nil }) {
            do {
                try core.control.loadSpend(from: StoreSpendHistory(directory: store.directory), keys: keys, now: Timestamp.nowMicros())
            } catch {
                throw ProxySetupError("cannot read the spend budgets start from: \(error)")
            }
        }
        // A change of budgets or limits since the last start is an audit record.
        do {
            let catalog = try Catalog(path: store.directory.catalog)
            let policy = settings.control.policyDescription
            let recorded = try catalog.meta("policy")
            if !policy.isEmpty || recorded != nil { try catalog.recordPolicy(policy, at: Timestamp.nowMicros()) }
        } catch {
            throw ProxySetupError("cannot record the control policy in the catalog: \(error)")
        }
        // Redis counts calendar budgets for the fleet: it starts from this store's spend, unless
        // another server has already set it.
        if let shared = core.shared {
            let now = Timestamp.nowMicros()
            let seeds = core.control.ledgers(keys: keys, now: now).filter { !$0.isRolling }.map {
                (id: SharedCounters.budgetID($0, now: now), spent: $0.spent(now: now), ttl: max(60, ($0.end - now) / 1_000_000 + 86_400))
            }
            if !seeds.isEmpty {
                do { try shared.seed(seeds, on: group.next()).wait() } catch {
                    notes.append("control: cannot reach Redis at \(shared.endpoint) to start its budgets: \(error)")
                }
            }
        }
        self.notes = notes
    }

    /// Every budget as the proxy counts it now (configured ones and those of keys in use), for
    /// budget alerts.
    public func budgetStatuses() -> [BudgetStatus] {
        core.control.spendSnapshot(now: Timestamp.nowMicros()).map { BudgetStatus(name: $0.name, spentNanos: $0.spent, amountNanos: $0.amount) }
    }

    /// Shows the alert service's counters on `/_plumb/metrics` (call before `run`).
    public func attach(_ alerts: AlertService) { core.alerts = alerts }

    /// Serves until SIGINT or SIGTERM; `onListening` gets the bound port (for `--listen HOST:0`).
    ///
    /// One listening socket per event loop (SO_REUSEPORT), each accepting onto its own loop, as
    /// nginx's `reuseport` does: a connection is read on the thread that accepted it, instead of
    /// being handed to another loop (two thread wake-ups, measured as most of the 0.9 ms a new
    /// connection's first call added).
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let listen = core.settings.listen
        var channels: [Channel] = []
        do {
            // A plain bind first: SO_REUSEPORT would let this server share a port another one
            // (of the same user) already listens on, instead of failing "address in use".
            let probe = try await bind(on: group.next(), host: listen.host, port: listen.port, reusePort: false)
            let port = probe.localAddress?.port ?? listen.port       // --listen HOST:0: the port picked
            try await probe.close()
            for loop in group.makeIterator() { channels.append(try await bind(on: loop, host: listen.host, port: port)) }
        } catch {
            for c in channels { c.close(promise: nil) }
            throw ProxySetupError("cannot listen on \(listen): \(error)")
        }
        // Handlers first: a SIGTERM sent as soon as the address is printed must stop the server cleanly.
        let signals = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { for c in channels { c.close(promise: nil) } }
            source.resume()
            return source
        }
        // Key and policy changes become spans (operation 'admin') as they come.
        let mirror = AuditMirror(store: core.store, catalogPath: core.store.directory.catalog)
        let mirroring = PeriodicThread(name: "plumb-audit", every: { 1 }) { _ = try? mirror.runOnce() }
        mirroring.start()
        defer { mirroring.stop() }
        await onListening(channels.first?.localAddress?.port ?? listen.port)
        for c in channels { try? await c.closeFuture.get() }
        for s in signals { s.cancel() }
        // Calls in flight get a moment to finish and record their spans.
        let deadline = Date().addingTimeInterval(5)
        while core.hasCallsInFlight && Date() < deadline { try? await Task.sleep(nanoseconds: 50_000_000) }
        await core.shared?.drain()          // settled counts to Redis, unused leases back
        core.closePools()
    }

    /// A listening socket whose connections stay on `loop`.
    private func bind(on loop: EventLoop, host: String, port: Int, reusePort: Bool = true) async throws -> Channel {
        let core = self.core
        return try await ServerBootstrap(group: loop)
                .serverChannelOption(ChannelOptions.backlog, value: 1024)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SocketOptionName(SO_REUSEPORT)), value: reusePort ? 1 : 0)
                // TCP_NODELAY is set on the listening socket (ServerBootstrap's default) and
                // Linux's accepted sockets inherit it: as a child option it was a chain of
                // futures and a setsockopt on every accept.
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        // Pipelining and malformed requests are handled by ProxyConnectionHandler
                        // itself, in order. Outbound header validation is off: every header Plumb
                        // writes is either parsed from a peer (which rejects CR, LF and NUL) or
                        // its own constant text. The decoder and encoder are made apart, not by
                        // configureHTTPServerPipeline, which has the decoder queue each request's
                        // method for the encoder to take at each response head: forwarded
                        // responses are written below the encoder (ClientResponseWriter), so the
                        // queue would grow by one a call and a later answer of Plumb's own would
                        // take a stale method (a HEAD's, and lose its body). Plumb frames its own
                        // answers to HEAD itself (`writeResponse`, `bodyless`).
                        try sync.addHandler(HTTPResponseEncoder(configuration: .init()))
                        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                        try sync.addHandler(ProxyConnectionHandler(core: core))
                    }
                }
                .bind(host: host, port: port).get()
    }
}
