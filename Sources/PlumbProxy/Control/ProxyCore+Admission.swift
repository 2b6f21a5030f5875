import NIOCore
import PlumbCore
import PlumbStore

extension ProxyCore {
    /// Whether a call needs an admission at all (a Plumb key, or any budget or limit).
    func needsAdmission(key: PlumbKeyRecord?) -> Bool { key != nil || control.hasRules }

    /// Budgets and limits for one call: in this process, or with `[control] redis` in Redis (from
    /// this process's leases, or one round trip; rolling budgets stay here), with the failure
    /// policy when Redis fails.
    ///
    /// ```swift
    /// core.admit(identity, key: key, estimate: nanos, on: loop).whenSuccess { decision in … }
    /// ```
    func admit(_ id: CallIdentity, key: PlumbKeyRecord?, estimate: Int64, on loop: EventLoop) -> EventLoopFuture<ControlPlane.Decision> {
        let now = Timestamp.nowMicros()
        guard let shared else { return loop.makeSucceededFuture(control.admit(id, key: key, estimate: estimate, now: now)) }
        let (local, rules) = control.admitRollingBudgets(id, key: key, estimate: estimate, now: now)
        guard case .admitted(let localTicket) = local else { return loop.makeSucceededFuture(local) }
        let budgets = rules.budgets.filter { !$0.isRolling }
        guard !rules.limits.isEmpty || !budgets.isEmpty else { return loop.makeSucceededFuture(local) }
        let control = self.control
        return shared.admit(limits: rules.limits, budgets: budgets, estimate: estimate, now: now, on: loop).map { decision -> ControlPlane.Decision in
            switch decision {
            case .refused(let failure, let wait):
                control.release(localTicket)
                return .refused(failure, headers: [("Retry-After", String(wait))])
            case .admitted(let counts, let budgetIDs):
                var ticket = localTicket ?? ControlPlane.Ticket(estimate: estimate)
                ticket.sharedLimits = rules.limits.map(\.name)
                ticket.sharedBudgets = budgetIDs
                ticket.countLocally(spendOf: budgets)
                ticket.headers = Self.requestHeaders(rules.limits, counts: counts)
                return .admitted(ticket)
            }
        }.flatMapErrorThrowing { error -> ControlPlane.Decision in
            shared.failed("admitting a call", error)
            control.release(localTicket)
            if (!rules.limits.isEmpty && shared.failClosedLimits) || (!budgets.isEmpty && shared.failClosedBudgets) {
                return .refused(ProxyFailure(status: .serviceUnavailable, errorType: "control_unavailable",
                                             message: "Plumb cannot reach Redis (\(shared.endpoint)) to count this call's limits and budgets, and is set to refuse calls then (control.redis_limits / redis_budgets = \"fail_closed\")"),
                                headers: [("Retry-After", "5")])
            }
            return control.admit(id, key: key, estimate: estimate, now: now)      // fail_open: counted here alone
        }
    }

    /// Settles a call's budgets and limits: here, and in Redis for what Redis counted.
    func settle(_ ticket: ControlPlane.Ticket, span: Span, on loop: EventLoop) {
        let now = Timestamp.nowMicros()
        control.settle(ticket, span: span, now: now)
        guard let shared, !ticket.sharedLimits.isEmpty || !ticket.sharedBudgets.isEmpty else { return }
        shared.settle(limits: ticket.sharedLimits, budgets: ticket.sharedBudgets, estimate: ticket.estimateNanos,
                      tokens: (span.inputTokens ?? 0) + (span.outputTokens ?? 0), cost: Money.nanos(span.costUSD), now: now, on: loop)
    }

    /// `x-ratelimit-*-requests` from the call's place in each limit's minute (the tightest limit).
    static func requestHeaders(_ limits: [ControlPlane.LimitState], counts: [Int64]) -> [(String, String)] {
        var tightest: (limit: Int64, remaining: Int64)?
        for (l, n) in zip(limits, counts) {
            guard let rpm = l.spec.requestsPerMinute else { continue }
            if tightest == nil || rpm - n < tightest!.remaining { tightest = (rpm, rpm - n) }
        }
        guard let t = tightest else { return [] }
        return [("x-ratelimit-limit-requests", String(t.limit)), ("x-ratelimit-remaining-requests", String(max(0, t.remaining)))]
    }
}
