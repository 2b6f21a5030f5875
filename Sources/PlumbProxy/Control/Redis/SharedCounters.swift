import Foundation
import NIOCore
import PlumbCore

/// Limits and calendar budgets counted in Redis, so that several `plumb serve` admit a limit
/// together rather than each in full (`[control] redis`). One round trip a call: a Lua script
/// checks every rule that applies and, only if all pass, counts the call (atomically: two
/// servers cannot both take the last request of a minute). Settling is a second script, sent
/// without waiting. Rolling budgets stay counted in each process.
///
/// Keys: `plumb:r:<limit>:<second>` and `plumb:t:<limit>:<second>` (requests and tokens in one
/// second, expiring after 61 s); `plumb:bs:<budget>|<period start>` (spend in nanodollars,
/// expiring a day after the period) and `plumb:bf:<budget>|<period start>` (estimates in flight,
/// expiring `upstream_timeout` + 60 s after the last admission: a crashed server's estimates go).
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
    private let clients: [ObjectIdentifier: RedisClient]
    private let lock = NSLock()
    private(set) var failures: Int64 = 0
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
        self.log = log
    }

    func client(_ loop: EventLoop) -> RedisClient { clients[ObjectIdentifier(loop)]! }

    /// A budget's key part: its name and the start of its current period.
    static func budgetID(_ b: BudgetLedger, now: Int64) -> String { "\(b.name)|\(b.countedFrom(now: now))" }

    /// Checks and counts a call's shared rules (limits, calendar budgets) in one script.
    func admit(limits: [ControlPlane.LimitState], budgets: [BudgetLedger], estimate: Int64, now: Int64,
               on loop: EventLoop) -> EventLoopFuture<SharedDecision> {
        let second = now / 1_000_000
        var args = [Self.admitScript, "0", String(second), String(limits.count)]
        for l in limits { args += [l.name, String(l.spec.requestsPerMinute ?? 0), String(l.spec.tokensPerMinute ?? 0)] }
        args.append(String(budgets.count))
        for b in budgets {
            let ttl = max(60, (b.end - now) / 1_000_000 + 86_400)
            args += [Self.budgetID(b, now: now), String(b.spec.amountNanos), String(estimate), String(inFlightTTL), String(ttl)]
        }
        return client(loop).send(["EVAL"] + args).flatMapThrowing { reply -> SharedDecision in
            guard case .array(let items?) = reply, let code = items.first?.int else {
                if case .error(let e) = reply { throw RedisClient.Unavailable(description: "Redis: \(e.prefix(300))") }
                throw RedisClient.Unavailable(description: "Redis answered the admission script with \(reply)")
            }
            let n = items.dropFirst().map { $0.int ?? 0 }
            switch code {
            case 0:
                return .admitted(counts: Array(n))
            case 1, 2:
                guard n.count >= 3, (1...limits.count).contains(Int(n[0])) else { throw RedisClient.Unavailable(description: "Redis: bad refusal \(items)") }
                let l = limits[Int(n[0]) - 1]
                let what = code == 1 ? "requests" : "tokens"
                let limit = (code == 1 ? l.spec.requestsPerMinute : l.spec.tokensPerMinute) ?? 0
                return .refused(ControlPlane.limitReached(l, what, limit, wait: n[2]), retryAfter: max(1, n[2]))
            default:
                guard n.count >= 3, (1...budgets.count).contains(Int(n[0])) else { throw RedisClient.Unavailable(description: "Redis: bad refusal \(items)") }
                let b = budgets[Int(n[0]) - 1]
                let wait = b.secondsUntilOpen(now: now)
                return .refused(ControlPlane.budgetSpent(b, spent: n[1], inFlight: n[2], wait: wait), retryAfter: wait)
            }
        }
    }

    enum SharedDecision {
        /// Requests counted in the last minute, per limit (this call included).
        case admitted(counts: [Int64])
        case refused(ProxyFailure, retryAfter: Int64)
    }

    /// Replaces the estimates by the call's cost and counts its tokens (not waited for).
    func settle(limits: [String], budgets: [(id: String, ttl: Int64)], estimate: Int64, tokens: Int64, cost: Int64, now: Int64, on loop: EventLoop) {
        var args = [Self.settleScript, "0", String(now / 1_000_000), String(limits.count)] + limits
        args += [String(tokens), String(budgets.count)]
        for b in budgets { args += [b.id, String(estimate), String(cost), String(b.ttl)] }
        client(loop).send(["EVAL"] + args).whenFailure { [self] in failed("settling a call", $0) }
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

    /// ARGV: second, nLimits, (name, rpm, tpm)…, nBudgets, (id, amount, estimate, inflightTTL, spentTTL)…
    /// Returns {0, requests per limit…}, {1|2, limit index, total, wait} or {3, budget index, spent, in flight}.
    static let admitScript = """
        local now = tonumber(ARGV[1]); local i = 2
        local function total(prefix, id)
          local keys = {}
          for s = now - 59, now do keys[#keys + 1] = prefix .. id .. ':' .. s end
          local vals = redis.call('MGET', unpack(keys))
          local t = 0
          for _, v in ipairs(vals) do if v then t = t + tonumber(v) end end
          return t, vals
        end
        local function wait(vals, t, limit)
          for idx, v in ipairs(vals) do if v then t = t - tonumber(v); if t < limit then return idx end end end
          return 60
        end
        local nl = tonumber(ARGV[i]); i = i + 1
        local counts = {}
        for l = 1, nl do
          local id, rpm, tpm = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]); i = i + 3
          local r, rv = total('plumb:r:', id)
          if rpm > 0 and r >= rpm then return {1, l, r, wait(rv, r, rpm)} end
          if tpm > 0 then
            local t, tv = total('plumb:t:', id)
            if t >= tpm then return {2, l, t, wait(tv, t, tpm)} end
          end
          counts[l] = r
        end
        local nb = tonumber(ARGV[i]); i = i + 1
        local budgets = {}
        for b = 1, nb do
          local id, amount = ARGV[i], tonumber(ARGV[i + 1])
          local spent = tonumber(redis.call('GET', 'plumb:bs:' .. id) or '0')
          local inflight = tonumber(redis.call('GET', 'plumb:bf:' .. id) or '0')
          if inflight < 0 then inflight = 0 end
          if spent + inflight >= amount then return {3, b, spent, inflight} end
          budgets[b] = {id, ARGV[i + 2], ARGV[i + 3]}
          i = i + 5
        end
        local out = {0}
        i = 3
        for l = 1, nl do
          local k = 'plumb:r:' .. ARGV[i] .. ':' .. now
          redis.call('INCR', k); redis.call('EXPIRE', k, 61)
          out[#out + 1] = counts[l] + 1
          i = i + 3
        end
        for _, b in ipairs(budgets) do
          local k = 'plumb:bf:' .. b[1]
          redis.call('INCRBY', k, b[2]); redis.call('EXPIRE', k, b[3])
        end
        return out
        """

    /// ARGV: second, nLimits, names…, tokens, nBudgets, (id, estimate, cost, spentTTL)…
    static let settleScript = """
        local now = tonumber(ARGV[1]); local nl = tonumber(ARGV[2]); local i = 3
        local tokens = tonumber(ARGV[3 + nl])
        for l = 1, nl do
          if tokens > 0 then
            local k = 'plumb:t:' .. ARGV[i] .. ':' .. now
            redis.call('INCRBY', k, tokens); redis.call('EXPIRE', k, 61)
          end
          i = i + 1
        end
        i = i + 1
        local nb = tonumber(ARGV[i]); i = i + 1
        for b = 1, nb do
          local id, est, cost, ttl = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
          redis.call('DECRBY', 'plumb:bf:' .. id, est)
          if cost > 0 then
            redis.call('INCRBY', 'plumb:bs:' .. id, cost); redis.call('EXPIRE', 'plumb:bs:' .. id, ttl)
          end
          i = i + 4
        end
        return 1
        """
}
