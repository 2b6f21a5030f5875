import Foundation
import NIOCore
import NIOSSL
import PlumbCore
import PlumbStore

/// The proxy's shared state: settings, the store, the key fingerprint, metrics, recent spans and
/// the upstream connection pools (one per event loop). Spans go to the store with a
/// non-blocking append; if the store cannot take one, the call is still proxied and the drop is
/// counted.
final class ProxyCore: @unchecked Sendable {
    let settings: ProxySettings
    let store: SpanStore
    let fingerprint: KeyFingerprint
    let metrics = ProxyMetrics()
    let recent = RecentSpans()
    /// Immutable after init: one pool per event loop of the group.
    private let pools: [ObjectIdentifier: UpstreamPool]
    private let targets: [String: UpstreamTarget]

    init(settings: ProxySettings, store: SpanStore, fingerprint: KeyFingerprint, group: EventLoopGroup) throws {
        self.settings = settings
        self.store = store
        self.fingerprint = fingerprint
        let tls = try NIOSSLContext(configuration: .makeClientConfiguration())
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() { pools[ObjectIdentifier(loop)] = UpstreamPool(eventLoop: loop, tls: tls) }
        self.pools = pools
        var targets: [String: UpstreamTarget] = [:]
        for (name, p) in settings.registry.providers {
            guard let t = UpstreamTarget(baseURL: p.baseURL) else { throw ProxySetupError("provider \(name): cannot use base_url '\(p.baseURL)'") }
            targets[name] = t
        }
        self.targets = targets
    }

    func pool(for loop: EventLoop) -> UpstreamPool { pools[ObjectIdentifier(loop)]! }

    func target(of provider: Provider) -> UpstreamTarget? { targets[provider.name] }

    func closePools() {
        for p in pools.values { p.eventLoop.execute { p.closeAll() } }
    }

    private let activeLock = NSLock()
    private var active = 0
    /// Calls started and not yet recorded (for a clean stop).
    var hasCallsInFlight: Bool { activeLock.lock(); defer { activeLock.unlock() }; return active > 0 }
    func callStarted() { activeLock.lock(); active += 1; activeLock.unlock() }
    func callEnded() { activeLock.lock(); active -= 1; activeLock.unlock() }

    /// Hands a finished span to the store (never waits for the disk) and to the metrics.
    func record(_ span: Span) {
        _ = store.append(span)
        recent.add(span)
        metrics.record(span)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
