import Foundation
import NIOHTTP1
import PlumbCore
import PlumbStore

/// Budgets and rate limits, applied to each call before it goes upstream and settled when its
/// span is recorded. One lock guards every counter: a call takes it twice, for a few
/// microseconds (an admission is a handful of comparisons per rule that applies).
///
/// A budget admits a call while its spend plus the estimates of the calls in flight is under
/// its amount; the call's estimate is held until its span is recorded, then its real cost
/// replaces it. So concurrent calls cannot run past a budget by more than one call: the spend
/// can end above the amount by at most the largest single call admitted last (its estimate, or
/// its real cost where that is higher). See schemas/config.md, "Budgets".
///
/// ```swift
/// switch control.admit(identity, key: key, estimate: nanos, now: Timestamp.nowMicros()) {
/// case .refused(let failure, let headers): …        // 429, budget_exceeded or rate_limited
/// case .admitted(let ticket): …; control.settle(ticket, span: span)
/// }
/// ```
final class ControlPlane: @unchecked Sendable {
    let settings: ControlSettings
    private let lock = NSLock()
    private let budgets: [BudgetLedger]
    private let limits: [(rule: ControlSettings.LimitRule, state: LimitState)]
    /// Budgets and limits of Plumb keys, by key name, made as keys are first used.
    private var keyBudgets: [String: BudgetLedger] = [:]
    private var keyLimits: [String: LimitState] = [:]
    private var keyBudgetTexts: [String: String] = [:]

    /// One rate limit's counters over the last minute.
    final class LimitState: @unchecked Sendable {
        let name: String
        let scope: PolicyScope
        let spec: LimitSpec
        var requests = MinuteWindow()
        var tokens = MinuteWindow()
        init(name: String, scope: PolicyScope, spec: LimitSpec) { self.name = name; self.scope = scope; self.spec = spec }
    }

    /// What an admitted call holds until its span is recorded.
    struct Ticket: Sendable {
        fileprivate var budgets: [BudgetLedger] = []
        fileprivate var limits: [LimitState] = []
        fileprivate var estimate: Int64 = 0
        /// `x-ratelimit-*` for the answer (the tightest limit that applies).
        var headers: [(String, String)] = []
        /// Rules counted in Redis (`SharedCounters`), settled there.
        var sharedLimits: [String] = []
        var sharedBudgets: [String] = []
        /// Calendar budgets counted in Redis: this process still adds its own spend to them, for
        /// when Redis fails and calls are counted here alone (`fail_open`).
        fileprivate var localSpendOnly: [BudgetLedger] = []

        init(estimate: Int64 = 0) { self.estimate = estimate }

        var estimateNanos: Int64 { estimate }

        /// For a call admitted by Redis: the calendar budgets it is in, which also keep this
        /// process's own spend.
        mutating func countLocally(spendOf budgets: [BudgetLedger]) { localSpendOnly = budgets }
    }

    enum Decision {
        case admitted(Ticket?)
        case refused(ProxyFailure, headers: [(String, String)])
    }

    init(settings: ControlSettings, now: Int64 = Timestamp.nowMicros()) {
        self.settings = settings
        budgets = settings.budgets.map { BudgetLedger(name: $0.name, scope: $0.scope, spec: $0.spec, zone: $0.zone, now: now) }
        limits = settings.limits.map { ($0, LimitState(name: $0.name, scope: $0.scope, spec: $0.spec)) }
    }

    /// Whether a call without a Plumb key can meet a budget or a limit (if not, and it has no
    /// key, admission is skipped).
    var hasRules: Bool { settings.hasRules }

    /// Which rules a call meets: all of them, or (with Redis counting the rest) only the
    /// rolling budgets, which are counted in this process.
    enum Counted { case all, rollingBudgetsOnly }

    /// The limits and budgets that apply to a call.
    private func unlockedRules(for id: CallIdentity, key: PlumbKeyRecord?, now: Int64) -> (limits: [LimitState], budgets: [BudgetLedger]) {
        var l: [LimitState] = [], b: [BudgetLedger] = []
        for (_, state) in limits where state.scope.matches(id) { l.append(state) }
        for x in budgets where x.scope.matches(id) { b.append(x) }
        if let key {
            if key.requestsPerMinute != nil || key.tokensPerMinute != nil { l.append(keyLimit(key)) }
            if let x = keyBudget(key, now: now) { b.append(x) }
        }
        return (l, b)
    }

    /// Decides whether a call goes upstream. `estimate`: its in-flight cost in nanodollars.
    func admit(_ id: CallIdentity, key: PlumbKeyRecord?, estimate: Int64, now: Int64, counted: Counted = .all) -> Decision {
        lock.lock()
        let (decision, figures) = unlockedAdmit(unlockedRules(for: id, key: key, now: now), estimate: estimate, now: now, counted: counted)
        lock.unlock()
        // The headers' text is made outside the lock, which both event loops take.
        guard let figures, case .admitted(var ticket?) = decision else { return decision }
        ticket.headers = figures.headers
        return .admitted(ticket)
    }

    /// For a call counted in Redis: its rolling budgets admitted here, and every rule that
    /// applies to it, under one taking of the lock.
    func admitRollingBudgets(_ id: CallIdentity, key: PlumbKeyRecord?, estimate: Int64, now: Int64)
        -> (decision: Decision, rules: (limits: [LimitState], budgets: [BudgetLedger])) {
        lock.lock(); defer { lock.unlock() }
        let rules = unlockedRules(for: id, key: key, now: now)
        return (unlockedAdmit(rules, estimate: estimate, now: now, counted: .rollingBudgetsOnly).0, rules)
    }

    private func unlockedAdmit(_ rules: (limits: [LimitState], budgets: [BudgetLedger]), estimate: Int64, now: Int64,
                               counted: Counted) -> (Decision, RateFigures?) {
        var ticket = Ticket(estimate: estimate)
        ticket.limits = counted == .all ? rules.limits : []
        ticket.budgets = counted == .all ? rules.budgets : rules.budgets.filter(\.isRolling)
        guard !ticket.limits.isEmpty || !ticket.budgets.isEmpty else { return (.admitted(nil), nil) }
        let second = now / 1_000_000
        for l in ticket.limits {
            if let rpm = l.spec.requestsPerMinute, l.requests.total(atSecond: second) >= rpm {
                return (limited(l, "requests", rpm, wait: l.requests.secondsUntilBelow(rpm, atSecond: second), ticket.limits, second), nil)
            }
            if let tpm = l.spec.tokensPerMinute, l.tokens.total(atSecond: second) >= tpm {
                return (limited(l, "tokens", tpm, wait: l.tokens.secondsUntilBelow(tpm, atSecond: second), ticket.limits, second), nil)
            }
        }
        for b in ticket.budgets where b.isExhausted(now: now) {
            return (.refused(Self.budgetSpent(b, spent: b.spent(now: now), inFlight: b.inFlight, wait: b.secondsUntilOpen(now: now)),
                             headers: [("Retry-After", String(b.secondsUntilOpen(now: now)))]), nil)
        }
        for l in ticket.limits { l.requests.add(1, atSecond: second) }
        for b in ticket.budgets { b.inFlight += estimate }
        return (.admitted(ticket), Self.rateFigures(ticket.limits, second: second))
    }

    static func budgetSpent(_ b: BudgetLedger, spent: Int64, inFlight: Int64, wait: Int64) -> ProxyFailure {
        let held = inFlight > 0 ? " (\(Money.format(inFlight)) of it estimated for calls in flight)" : ""
        let period = b.isRolling ? "in any \(b.spec.period)" : "a \(b.spec.period)"
        return ProxyFailure(status: .tooManyRequests, errorType: "budget_exceeded",
                            message: "budget '\(b.name)' (\(Money.format(b.spec.amountNanos)) USD \(period) for \(b.scope)) is spent: \(Money.format(spent + inFlight)) USD used\(held); it opens again in \(wait) s")
    }

    static func limitReached(_ l: LimitState, _ what: String, _ limit: Int64, wait: Int64) -> ProxyFailure {
        ProxyFailure(status: .tooManyRequests, errorType: "rate_limited",
                     message: "rate limit '\(l.name)' for \(l.scope) reached: \(limit) \(what) per minute; try again in \(max(1, wait)) s")
    }

    private func limited(_ l: LimitState, _ what: String, _ limit: Int64, wait: Int64, _ all: [LimitState], _ second: Int64) -> Decision {
        .refused(Self.limitReached(l, what, limit, wait: wait), headers: [("Retry-After", String(max(1, wait)))] + Self.rateHeaders(all, second: second))
    }

    /// Replaces a call's estimate by its real cost and counts its tokens.
    func settle(_ ticket: Ticket, span: Span, now: Int64) {
        lock.lock(); defer { lock.unlock() }
        let tokens = (span.inputTokens ?? 0) + (span.outputTokens ?? 0)
        let second = now / 1_000_000
        for l in ticket.limits where tokens > 0 { l.tokens.add(tokens, atSecond: second) }
        let cost = Money.nanos(span.costUSD)
        for b in ticket.budgets {
            b.inFlight -= ticket.estimate
            b.spend(cost, at: span.tsStart, now: now)
        }
        for b in ticket.localSpendOnly { b.spend(cost, at: span.tsStart, now: now) }
    }

    /// Gives back what `admit` held for a call that will not go upstream after all.
    func release(_ ticket: Ticket?) {
        guard let ticket else { return }
        lock.lock(); defer { lock.unlock() }
        for b in ticket.budgets { b.inFlight -= ticket.estimate }
    }

    /// For OpenAI's headers: of each kind, the limit with the least left (numbers only, taken
    /// under the lock; `headers` writes them).
    struct RateFigures {
        struct Figure { var limit: Int64; var remaining: Int64; var reset: Int64 }
        var requests: Figure?
        var tokens: Figure?

        /// `x-ratelimit-limit-requests`, `-remaining-`, `-reset-`, and the same for tokens.
        var headers: [(String, String)] {
            var out: [(String, String)] = []
            for (kind, f) in [("requests", requests), ("tokens", tokens)] {
                guard let f else { continue }
                out.append(("x-ratelimit-limit-\(kind)", String(f.limit)))
                out.append(("x-ratelimit-remaining-\(kind)", String(max(0, f.remaining))))
                out.append(("x-ratelimit-reset-\(kind)", ControlPlane.goDuration(f.reset)))
            }
            return out
        }
    }

    static func rateFigures(_ limits: [LimitState], second: Int64) -> RateFigures {
        func tightest(_ limit: (LimitState) -> Int64?, _ window: (LimitState) -> MinuteWindow) -> RateFigures.Figure? {
            var best: (state: LimitState, limit: Int64, remaining: Int64)?
            for l in limits {
                guard let n = limit(l) else { continue }
                let remaining = n - window(l).total(atSecond: second)
                if best == nil || remaining < best!.remaining { best = (l, n, remaining) }
            }
            return best.map { .init(limit: $0.limit, remaining: $0.remaining, reset: window($0.state).secondsUntilEmpty(atSecond: second)) }
        }
        return RateFigures(requests: tightest({ $0.spec.requestsPerMinute }, { $0.requests }),
                           tokens: tightest({ $0.spec.tokensPerMinute }, { $0.tokens }))
    }

    /// OpenAI's headers (`x-ratelimit-limit-requests`, `-remaining-`, `-reset-`, and the same
    /// for tokens), from the limit of each kind with the least left.
    static func rateHeaders(_ limits: [LimitState], second: Int64) -> [(String, String)] {
        rateFigures(limits, second: second).headers
    }

    /// Seconds as OpenAI writes its reset times (Go's duration format): `0s`, `59s`, `1m0s`.
    static func goDuration(_ seconds: Int64) -> String {
        seconds < 60 ? "\(seconds)s" : "\(seconds / 60)m\(seconds % 60)s"
    }

    private func keyLimit(_ key: PlumbKeyRecord) -> LimitState {
        let spec = LimitSpec(requestsPerMinute: key.requestsPerMinute, tokensPerMinute: key.tokensPerMinute)
        if let l = keyLimits[key.name], l.spec == spec { return l }
        let l = LimitState(name: "key:\(key.name)", scope: .key(key.name), spec: spec)
        keyLimits[key.name] = l
        return l
    }

    private func keyBudget(_ key: PlumbKeyRecord, now: Int64) -> BudgetLedger? {
        guard let text = key.budget else { return nil }
        // The text is parsed when it is new for the key, not on every call.
        if let b = keyBudgets[key.name], keyBudgetTexts[key.name] == text { return b }
        guard let spec = try? BudgetSpec.parse(text) else { return nil }
        if let b = keyBudgets[key.name], b.spec == spec { keyBudgetTexts[key.name] = text; return b }
        let b = BudgetLedger(name: "key:\(key.name)", scope: .key(key.name), spec: spec, zone: settings.timeZone, now: now)
        keyBudgets[key.name] = b
        keyBudgetTexts[key.name] = text
        return b
    }

    // MARK: Spend already recorded

    /// Loads each budget's spend so far in its period from the store (at start, before any
    /// call): configured budgets, and those of the live keys given.
    func loadSpend(from history: SpendHistory, keys: [PlumbKeyRecord], now: Int64) throws {
        lock.lock(); defer { lock.unlock() }
        var ledgers = budgets
        for k in keys { if let b = keyBudget(k, now: now) { ledgers.append(b) } }
        for (column, group) in Dictionary(grouping: ledgers, by: { $0.scope.column }) {
            let since = group.map { $0.countedFrom(now: now) }.min() ?? now
            for row in try history.spend(groupedBy: column, since: since) {
                for b in group where b.scope.matches(columnValue: row.value) { b.spend(row.nanos, at: row.minute, now: now) }
            }
        }
    }

    /// The configured budgets and those of `keys`.
    func ledgers(keys: [PlumbKeyRecord], now: Int64) -> [BudgetLedger] {
        lock.lock(); defer { lock.unlock() }
        return budgets + keys.compactMap { keyBudget($0, now: now) }
    }

    /// Spend of the current period, by budget name (for `/_plumb/metrics` and tests).
    func spendSnapshot(now: Int64) -> [(name: String, spent: Int64, inFlight: Int64, amount: Int64)] {
        lock.lock(); defer { lock.unlock() }
        return (budgets + keyBudgets.values.sorted { $0.name < $1.name }).map { ($0.name, $0.spent(now: now), $0.inFlight, $0.spec.amountNanos) }
    }
}

/// Spend already recorded, by the value of a span column and by minute: what budgets start
/// from when `plumb serve` starts.
protocol SpendHistory {
    /// `column` is Plumb SQL over `spans` (see `PolicyScope.column`); rows since `since` (µs).
    func spend(groupedBy column: String, since: Int64) throws -> [(value: String?, minute: Int64, nanos: Int64)]
}
