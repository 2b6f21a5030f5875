import Foundation
import NIOCore
import PlumbCore

/// Limits and calendar budgets counted in Redis, so that several `plumb serve` admit a limit
/// together rather than each in full (`[control] redis`). Redis grants each process leases
/// (`LeaseBook`): slots of a limit's minute and parts of a budget, counted in Redis when granted.
/// A call that its leases cover is admitted here, with no round trip; one that they do not asks
/// Redis in one script, which checks every rule that applies and, only if all pass, counts the
/// call and tops the leases up (atomically: two servers cannot both take the last request of a
/// minute). Near a rule's edge leases are small or none, so there each call is counted in Redis
/// as it comes. Settled tokens and costs go to Redis every `tickInterval`, or at once for a rule
/// near its edge. Rolling budgets stay counted in each process.
///
/// Keys: `plumb:w:<limit>:r` and `plumb:w:<limit>:t` (the last minute's requests and tokens,
/// expiring 61 s after the last change; see `windowFunctions`); `plumb:bs:<budget>|<period start>` (spend in nanodollars,
/// expiring a day after the period) and `plumb:bf:<budget>|<period start>` (estimates and reservations in flight,
/// expiring `upstream_timeout` + 60 s after the last grant: a crashed server's go).
///
/// When Redis fails or is slow (`redis_timeout`), the policy decides: `fail_open` counts the
/// call in this process alone, `fail_closed` refuses it with 503.
final class SharedCounters: @unchecked Sendable {
    let endpoint: RedisEndpoint
    let timeout: TimeAmount
    let failClosedLimits: Bool
    let failClosedBudgets: Bool
    /// Seconds an in-flight estimate may outlive its server.
    let inFlightTTL: Int64
    /// How often leases are topped up and settled counts sent.
    static let tickInterval = TimeAmount.milliseconds(100)
    let leases = LeaseBook()
    private let clients: [ObjectIdentifier: RedisClient]
    private let tickLoop: EventLoop
    private var ticker: RepeatedTask?
    private let lock = NSLock()
    private(set) var failures: Int64 = 0
    private var roundTrips: Int64 = 0
    private var lastLogged: Double = 0
    let log: @Sendable (String) -> Void

    init(settings: ControlSettings.RedisSettings, loops: [EventLoop], upstreamTimeout: Double, log: @escaping @Sendable (String) -> Void) {
        endpoint = settings.endpoint
        timeout = .nanoseconds(Int64(settings.timeout * 1e9))
        failClosedLimits = settings.failClosedLimits
        failClosedBudgets = settings.failClosedBudgets
        inFlightTTL = Int64(upstreamTimeout) + 60
        var c: [ObjectIdentifier: RedisClient] = [:]
        for l in loops { c[ObjectIdentifier(l)] = RedisClient(eventLoop: l, endpoint: settings.endpoint, timeout: timeout) }
        clients = c
        tickLoop = loops[0]
        self.log = log
        ticker = tickLoop.scheduleRepeatedTask(initialDelay: Self.tickInterval, delay: Self.tickInterval) { [weak self] _ in self?.tick() }
    }

    func client(_ loop: EventLoop) -> RedisClient { clients[ObjectIdentifier(loop)]! }

    /// A budget's key part: its name and the start of its current period.
    static func budgetID(_ b: BudgetLedger, now: Int64) -> String { "\(b.name)|\(b.countedFrom(now: now))" }

    func limitRules(_ limits: [ControlPlane.LimitState]) -> [LeaseBook.LimitRule] {
        limits.map { .init(name: $0.name, rpm: $0.spec.requestsPerMinute ?? 0, tpm: $0.spec.tokensPerMinute ?? 0) }
    }

    func budgetRules(_ budgets: [BudgetLedger], now: Int64) -> [LeaseBook.BudgetRule] {
        budgets.map { .init(id: Self.budgetID($0, now: now), amount: $0.spec.amountNanos, inFlightTTL: inFlightTTL,
                            spentTTL: max(60, ($0.end - now) / 1_000_000 + 86_400)) }
    }

    /// Checks and counts a call's shared rules (limits, calendar budgets): from the leases held
    /// when they cover it (no round trip), else in one script.
    func admit(limits: [ControlPlane.LimitState], budgets: [BudgetLedger], estimate: Int64, now: Int64,
               on loop: EventLoop) -> EventLoopFuture<SharedDecision> {
        let lr = limitRules(limits), br = budgetRules(budgets, now: now)
        if let slots = leases.admitLocally(limits: lr, budgets: br, estimate: estimate, now: now) {
            return loop.makeSucceededFuture(.admitted(counts: slots, budgetIDs: br.map(\.id)))
        }
        let sync = leases.request(limits: lr, budgets: br, estimate: estimate, now: now)
        return run(sync, on: loop).flatMapThrowing { [leases] reply -> SharedDecision in
            switch reply {
            case .granted:
                return .admitted(counts: leases.apply(reply, of: sync, now: now) ?? [], budgetIDs: br.map(\.id))
            case .limitReached(let i, let tokens, _, let wait):
                leases.apply(reply, of: sync, now: now)
                let l = limits[i]
                let limit = (tokens ? l.spec.tokensPerMinute : l.spec.requestsPerMinute) ?? 0
                return .refused(ControlPlane.limitReached(l, tokens ? "tokens" : "requests", limit, wait: wait), retryAfter: max(1, wait))
            case .budgetSpent(let i, let used):
                leases.apply(reply, of: sync, now: now)
                let b = budgets[i]
                let wait = b.secondsUntilOpen(now: now)
                return .refused(ControlPlane.budgetSpent(b, spent: used, inFlight: 0, wait: wait), retryAfter: wait)
            }
        }
    }

    enum SharedDecision {
        /// Per limit, the call's place in its minute's count (the fleet's calls before it, plus one);
        /// the ids its budgets were counted under (to settle them).
        case admitted(counts: [Int64], budgetIDs: [String])
        case refused(ProxyFailure, retryAfter: Int64)
    }

    /// A call has ended: its tokens and cost count against its rules (sent now near an edge,
    /// else with the next tick).
    func settle(limits: [String], budgets: [String], estimate: Int64, tokens: Int64, cost: Int64, now: Int64, on loop: EventLoop) {
        guard let sync = leases.settle(limits: limits, budgets: budgets, estimate: estimate, tokens: tokens, cost: cost, now: now) else { return }
        run(sync, on: loop).whenFailure { [self] in failed("settling a call", $0) }
    }

    /// One tick: rates measured, pending counts sent, leases topped up or given back.
    private func tick() {
        let sync = leases.tick(now: Timestamp.nowMicros(), interval: Double(Self.tickInterval.nanoseconds) / 1e9)
        guard !sync.isEmpty else { return }
        run(sync, on: tickLoop).whenComplete { [self] result in
            switch result {
            case .success(let reply): leases.apply(reply, of: sync, now: Timestamp.nowMicros())
            case .failure(let error): failed("sending settled counts", error)
            }
        }
    }

    /// At shutdown: what is pending goes to Redis and leases go back (waits up to the timeout).
    func drain() async {
        ticker?.cancel()
        let sync = leases.drain(now: Timestamp.nowMicros())
        guard !sync.isEmpty else { return }
        _ = try? await tickLoop.flatSubmit { self.run(sync, on: self.tickLoop) }.get()
    }

    /// Sends one sync script; a failed one gives its pending counts back to the book.
    private func run(_ sync: LeaseBook.Sync, on loop: EventLoop) -> EventLoopFuture<LeaseBook.Reply> {
        lock.lock(); roundTrips += 1; lock.unlock()
        let args = Self.arguments(sync)
        return client(loop).eval("sync", script: Self.syncScript, args).flatMapThrowing { reply in
            try Self.reply(reply, limits: sync.limits.count, budgets: sync.budgets.count)
        }.flatMapErrorThrowing { [leases] error in
            leases.restore(sync)
            throw error
        }
    }

    /// ARGV of the script (see `syncScript`).
    static func arguments(_ sync: LeaseBook.Sync) -> [String] {
        var args = [String(sync.limits.count)]
        for op in sync.limits {
            args += [op.rule.name, String(op.rule.rpm), String(op.rule.tpm), op.need ? "1" : "0", String(op.want), String(op.tokens), String(op.returns.count)]
            for r in op.returns { args += [String(r.second), String(r.n)] }
        }
        args.append(String(sync.budgets.count))
        for op in sync.budgets {
            args += [op.rule.id, String(op.rule.amount), op.need ? "1" : "0", String(op.needEstimate), String(op.want),
                     String(op.spent), String(op.release), String(op.rule.inFlightTTL), String(op.rule.spentTTL)]
        }
        return args
    }

    /// Reads the script's answer: `{0, second, (granted, first, requests, tokens) per limit…,
    /// (granted, spent, in flight) per budget…}`, `{1 | 2, limit, count, wait}` (requests or
    /// tokens) or `{3, budget, used}`.
    static func reply(_ reply: RESPValue, limits: Int, budgets: Int) throws -> LeaseBook.Reply {
        guard case .array(let items?) = reply, let code = items.first?.int else {
            if case .error(let e) = reply { throw RedisClient.Unavailable(description: "Redis: \(e.prefix(300))") }
            throw RedisClient.Unavailable(description: "Redis answered the control script with \(String(describing: reply).prefix(300))")
        }
        let n = items.dropFirst().map { $0.int }
        guard !n.contains(where: { $0 == nil }) else { throw RedisClient.Unavailable(description: "Redis: a non-integer in the control script's answer") }
        let v = n.map { $0! }
        switch code {
        case 0:
            guard v.count == 1 + 4 * limits + 3 * budgets else { throw RedisClient.Unavailable(description: "Redis: the control script answered \(v.count) numbers") }
            var l: [(granted: Int64, first: Int64, requests: Int64, tokens: Int64)] = []
            for i in 0..<limits {
                let at = 1 + 4 * i
                l.append((v[at], v[at + 1], v[at + 2], v[at + 3]))
            }
            var b: [(granted: Int64, spent: Int64, inFlight: Int64)] = []
            for i in 0..<budgets {
                let at = 1 + 4 * limits + 3 * i
                b.append((v[at], v[at + 1], v[at + 2]))
            }
            return .granted(second: v[0], limits: l, budgets: b)
        case 1, 2:
            guard v.count == 3, limits > 0, (1...limits).contains(Int(v[0])) else { throw RedisClient.Unavailable(description: "Redis: bad refusal \(v)") }
            return .limitReached(limit: Int(v[0]) - 1, tokens: code == 2, count: v[1], wait: v[2])
        case 3:
            guard v.count == 2, budgets > 0, (1...budgets).contains(Int(v[0])) else { throw RedisClient.Unavailable(description: "Redis: bad refusal \(v)") }
            return .budgetSpent(budget: Int(v[0]) - 1, used: v[1])
        default:
            throw RedisClient.Unavailable(description: "Redis: the control script answered code \(code)")
        }
    }

    /// Starts each budget's shared spend from this server's store when Redis has none yet.
    func seed(_ budgets: [(id: String, spent: Int64, ttl: Int64)], on loop: EventLoop) -> EventLoopFuture<Void> {
        let client = client(loop)
        return loop.flatSubmit {
            EventLoopFuture.andAllSucceed(budgets.map { b in
                client.send(["SET", "plumb:bs:\(b.id)", String(b.spent), "NX", "EX", String(b.ttl)]).map { _ in () }
            }, on: loop)
        }
    }

    /// Counts a failure and logs it (at most once a minute).
    func failed(_ what: String, _ error: Error) {
        lock.lock()
        failures += 1
        let now = Date().timeIntervalSince1970
        let logIt = now - lastLogged > 60
        if logIt { lastLogged = now }
        lock.unlock()
        if logIt { log("control: Redis at \(endpoint) failed \(what): \(error)") }
    }

    var failureCount: Int64 { lock.lock(); defer { lock.unlock() }; return failures }
    var roundTripCount: Int64 { lock.lock(); defer { lock.unlock() }; return roundTrips }
}
