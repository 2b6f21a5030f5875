import Hummingbird
import Logging
import PlumbCore
import PlumbStore

/// `plumb serve`: the HTTP server in front of the providers, recording every call in the store.
///
/// ```swift
/// let server = try ProxyServer(settings: settings, store: store)
/// try await server.run()     // until SIGINT/SIGTERM; then the store is closed cleanly
/// ```
public struct ProxyServer: Sendable {
    let core: ProxyCore

    public init(settings: ProxySettings, store: SpanStore) throws {
        let fingerprint = try KeyFingerprint(dataDirectory: store.directory.path)
        core = ProxyCore(settings: settings, store: store, fingerprint: fingerprint)
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let core: ProxyCore
        func respond(to request: Request, context: Context) async throws -> Response {
            try await core.handle(request)
        }
    }

    /// Serves until a termination signal; `onListening` gets the bound port (for `--listen HOST:0`).
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "plumb")
        logger.logLevel = .warning
        let app = Application(
            responder: Responder(core: core),
            configuration: .init(address: .hostname(core.settings.listen.host, port: core.settings.listen.port),
                                 serverName: nil, backlog: 1024),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        do {
            try await app.runService()
        } catch {
            await core.shutdown()
            throw error
        }
        await core.shutdown()
    }
}
