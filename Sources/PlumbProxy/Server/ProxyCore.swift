import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import PlumbAlerts
import PlumbCore
import PlumbExport
import PlumbStore

/// The proxy's shared state: settings, the store, metrics, recent spans and
/// the upstream connection pools (one per event loop). Spans go to the store with a
/// non-blocking append; if the store cannot take one, the call is still proxied and the drop is
/// counted.
final class ProxyCore: @unchecked Sendable {
    let settings: ProxySettings
    let store: SpanStore
    /// Shown on `/_plumb/metrics` and `/_plumb/health`; they run on their own threads.
    let exporters: [Exporter]
    let metrics = ProxyMetrics()
    let recent = RecentSpans()
    private let refusals: RefusalRecorder
    /// Budgets and rate limits (`[[budgets]]`, `[[limits]]`, and each Plumb key's own).
    let control: ControlPlane
    /// The live Plumb keys, read from the catalog (which `plumb keys` changes).
    let keys: KeyRegistry
    /// Limits and calendar budgets counted in Redis (`[control] redis`), when configured.
    let shared: SharedCounters?
    /// The alert rules' service, when any are configured (its counters go on `/_plumb/metrics`).
    var alerts: AlertService?
    /// `/_plumb/query` runs here, apart from span lookups, metrics pages and body inspection
    /// (NIOThreadPool.singleton), so that slow queries cannot hold those up.
    let queryPool = NIOThreadPool(numberOfThreads: 2)
    /// Queries running or waiting for a thread, at most `maxQueries` (then 503).
    let queries = Allowance(limit: ProxyCore.maxQueries)
    static let maxQueries = 8
    /// Client connections open (`max_connections`) and request-body bytes held (`request_buffer_bytes`).
    let connections: Allowance
    let bodyBytes: Allowance
    /// Immutable after init: what each event loop of the group owns (`LoopResources`).
    private let loops: [ObjectIdentifier: LoopResources]
    private let targets: [String: UpstreamTarget]

    init(settings: ProxySettings, store: SpanStore, fingerprint: KeyFingerprint, group: EventLoopGroup, exporters: [Exporter] = []) throws {
        self.settings = settings
        self.exporters = exporters
        self.store = store
        refusals = RefusalRecorder(perSecond: settings.rejectedSpansPerSecond)
        control = ControlPlane(settings: settings.control)
        keys = KeyRegistry(catalogPath: store.directory.catalog, loops: Array(group.makeIterator()))
        shared = settings.control.redis.map {
            SharedCounters(settings: $0, loops: Array(group.makeIterator()), upstreamTimeout: settings.upstreamTimeoutSeconds) { line in
                FileHandle.standardError.write(Data("plumb serve: \(line)\n".utf8))
            }
        }
        connections = Allowance(limit: settings.maxConnections)
        bodyBytes = Allowance(limit: settings.requestBufferBytes)
        queryPool.start()
        let tls = try NIOSSLContext(configuration: .makeClientConfiguration())
        var loops: [ObjectIdentifier: LoopResources] = [:]
        for loop in group.makeIterator() { loops[ObjectIdentifier(loop)] = LoopResources(loop: loop, tls: tls, fingerprint: fingerprint) }
        self.loops = loops
        var targets: [String: UpstreamTarget] = [:]
        for (name, p) in settings.registry.providers {
            guard let t = UpstreamTarget(baseURL: p.baseURL) else { throw ProxySetupError("provider \(name): cannot use base_url '\(p.baseURL)'") }
            targets[name] = t
        }
        self.targets = targets
    }

    func pool(for loop: EventLoop) -> UpstreamPool { loops[ObjectIdentifier(loop)]!.pool }

    func sweeper(for loop: EventLoop) -> ConnectionSweeper { loops[ObjectIdentifier(loop)]!.sweeper }

    /// Span ids for calls on `loop` (call on that loop only).
    func spanIDs(for loop: EventLoop) -> SpanIDSource { loops[ObjectIdentifier(loop)]!.spanIDs }

    /// Key fingerprints for calls on `loop` (call on that loop only).
    func fingerprints(for loop: EventLoop) -> KeyFingerprintCache { loops[ObjectIdentifier(loop)]!.fingerprints }

    func target(of provider: Provider) -> UpstreamTarget? { targets[provider.name] }

    func closePools() {
        for l in loops.values { l.pool.eventLoop.execute { l.pool.closeAll() } }
        for l in loops.values { l.sweeper.stop() }
        queryPool.shutdownGracefully { _ in }
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

    /// A call refused before any provider saw it (unknown provider, bad path, unauthorised, too
    /// large): stored without what the caller claims about itself (user, session, properties,
    /// trace, key), with its strings cut short, and no more than `rejected_spans_per_second`,
    /// so that an unauthenticated client can neither fake usage rows nor fill the disk.
    func recordRefused(_ span: Span, routed: Bool) {
        let recorded = refusals.admit()
        metrics.rejectedCall(recorded: recorded)
        metrics.record(span, routed: routed)
        guard recorded else { return }
        var s = span
        s.userID = nil; s.sessionID = nil; s.properties = [:]; s.traceID = nil; s.parentSpanID = nil; s.apiKeyHash = nil
        s.requestBody = nil
        s.endpoint = s.endpoint.prefix(utf8Bytes: 256)
        s.provider = ProxyMetrics.label(s.provider)
        s.modelRequested = nil; s.model = nil
        _ = store.append(s)
        recent.add(s)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

extension ProxyCore {
    /// Each budget's spend, amount and in-flight estimates (Prometheus text).
    func controlMetrics() -> String {
        let budgets = control.spendSnapshot(now: Timestamp.nowMicros())
        var out = shared.map {
            "# HELP plumb_control_redis_failures_total Redis commands for limits and budgets that failed or timed out.\n"
                + "# TYPE plumb_control_redis_failures_total counter\nplumb_control_redis_failures_total \($0.failureCount)\n"
                + "# HELP plumb_control_redis_round_trips_total Scripts sent to Redis (calls its leases did not cover, ticks, urgent settles).\n"
                + "# TYPE plumb_control_redis_round_trips_total counter\nplumb_control_redis_round_trips_total \($0.roundTripCount)\n"
                + "# HELP plumb_control_lease_admissions_total Calls admitted from this process's leases, with no round trip to Redis.\n"
                + "# TYPE plumb_control_lease_admissions_total counter\nplumb_control_lease_admissions_total \($0.leases.localAdmissionCount)\n"
        } ?? ""
        guard !budgets.isEmpty else { return out }
        for (name, help, value) in [("plumb_budget_spent_usd", "Spend counted in the budget's current period.", { (b: (name: String, spent: Int64, inFlight: Int64, amount: Int64)) in b.spent }),
                                    ("plumb_budget_in_flight_usd", "Estimated cost of the budget's calls in flight.", { $0.inFlight }),
                                    ("plumb_budget_amount_usd", "The budget's amount.", { $0.amount })] {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for b in budgets { out += "\(name){budget=\"\(PrometheusText.escapeLabel(b.name))\"} \(Money.format(value(b)))\n" }
        }
        return out
    }

    /// What the server holds, by part: the bounded buffers (each with its limit in
    /// `schemas/config.md`) and malloc's figures, for `/_plumb/metrics`.
    func memoryParts(store s: StoreCounters) -> [(part: String, bytes: Int)] {
        let m = MemoryTuning.figures()
        return [
            ("span_buffers", s.bufferBytes), ("page_cache", PageCache.shared.bytes), ("recent_spans", recent.held.bytes),
            ("request_bodies", bodyBytes.taken), ("malloc_system", m.system), ("malloc_in_use", m.inUse), ("malloc_free", m.free),
        ]
    }
}
