import Foundation
import NIOCore
import PlumbCore

/// Limits and calendar budgets counted in Redis, so that several `plumb serve` admit a limit
/// together rather than each in full (`[control] redis`). One round trip a call: a Lua script
/// checks every rule that applies and, only if all pass, counts the call (atomically: two
/// servers cannot both take the last request of a minute). Settling is a second script, sent
/// without waiting. Rolling budgets stay counted in each process.
///
/// Keys: `plumb:w:<limit>:r` and `plumb:w:<limit>:t` (the last minute's requests and tokens,
/// expiring 61 s after the last change; see `windowFunctions`); `plumb:bs:<budget>|<period start>` (spend in nanodollars,
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
        var args = [String(limits.count)]
        for l in limits { args += [l.name, String(l.spec.requestsPerMinute ?? 0), String(l.spec.tokensPerMinute ?? 0)] }
        args.append(String(budgets.count))
        for b in budgets {
            let ttl = max(60, (b.end - now) / 1_000_000 + 86_400)
            args += [Self.budgetID(b, now: now), String(b.spec.amountNanos), String(estimate), String(inFlightTTL), String(ttl)]
        }
        return client(loop).eval("admit", script: Self.admitScript, args).flatMapThrowing { reply -> SharedDecision in
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
        var args = [String(limits.count)] + limits
        args += [String(tokens), String(budgets.count)]
        for b in budgets { args += [b.id, String(estimate), String(cost), String(b.ttl)] }
        client(loop).eval("settle", script: Self.settleScript, args).whenFailure { [self] in failed("settling a call", $0) }
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

    /// Shared by both scripts: a limit's last minute as one hash per counter (`plumb:w:<limit>:r`
    /// for requests, `:t` for tokens): a count per second (field `second mod 60`), their `sum`
    /// and the `last` second moved to. Moving to a new second drops the counts that left the
    /// window, so a call costs a few hash operations, not a read of 60 keys. Time is Redis's
    /// own (`TIME`): servers whose clocks differ still share one minute.
    static let windowFunctions = """
        local now = tonumber(redis.call('TIME')[1])
        local function advance(key)
          local v = redis.call('HMGET', key, 'last', 'sum')
          local last, sum = tonumber(v[1]), tonumber(v[2]) or 0
          if not last then return 0 end
          if now <= last then return sum end
          if now - last >= 60 then redis.call('DEL', key); return 0 end
          for s = last + 1, now do
            local f = tostring(s % 60)
            local c = tonumber(redis.call('HGET', key, f) or '0')
            if c ~= 0 then sum = sum - c; redis.call('HDEL', key, f) end
          end
          redis.call('HSET', key, 'last', now, 'sum', sum)
          return sum
        end
        local function add(key, n)
          redis.call('HINCRBY', key, tostring(now % 60), n)
          redis.call('HINCRBY', key, 'sum', n)
          redis.call('HSET', key, 'last', now)
          redis.call('EXPIRE', key, 61)
        end
        local function wait(key, total, limit)
          for s = now - 59, now do
            total = total - tonumber(redis.call('HGET', key, tostring(s % 60)) or '0')
            if total < limit then return s + 60 - now end
          end
          return 60
        end
        """

    /// ARGV: nLimits, (name, rpm, tpm)…, nBudgets, (id, amount, estimate, inflightTTL, spentTTL)…
    /// Returns {0, requests per limit…}, {1|2, limit index, total, wait} or {3, budget index, spent, in flight}.
    static let admitScript = windowFunctions + "\n" + """
        local i = 1
        local nl = tonumber(ARGV[i]); i = i + 1
        local counts = {}
        for l = 1, nl do
          local id, rpm, tpm = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]); i = i + 3
          local rk = 'plumb:w:' .. id .. ':r'
          local r = advance(rk)
          if rpm > 0 and r >= rpm then return {1, l, r, wait(rk, r, rpm)} end
          if tpm > 0 then
            local tk = 'plumb:w:' .. id .. ':t'
            local t = advance(tk)
            if t >= tpm then return {2, l, t, wait(tk, t, tpm)} end
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
        i = 2
        for l = 1, nl do
          add('plumb:w:' .. ARGV[i] .. ':r', 1)
          out[#out + 1] = counts[l] + 1
          i = i + 3
        end
        for _, b in ipairs(budgets) do
          local k = 'plumb:bf:' .. b[1]
          redis.call('INCRBY', k, b[2]); redis.call('EXPIRE', k, b[3])
        end
        return out
        """

    /// ARGV: nLimits, names…, tokens, nBudgets, (id, estimate, cost, spentTTL)…
    static let settleScript = windowFunctions + "\n" + """
        local nl = tonumber(ARGV[1]); local i = 2
        local tokens = tonumber(ARGV[2 + nl])
        for l = 1, nl do
          if tokens > 0 then
            local k = 'plumb:w:' .. ARGV[i] .. ':t'
            advance(k)
            add(k, tokens)
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
