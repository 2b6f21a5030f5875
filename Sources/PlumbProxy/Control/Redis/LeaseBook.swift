import Foundation

/// This process's share of the limits and budgets counted in Redis: slots of a limit's minute
/// and a part of a budget, taken from Redis ahead of the calls that use them, so that most calls
/// are admitted here without a round trip. Redis counts a lease as used when it grants it, so the
/// fleet never admits more than a limit or reserves more than a budget; what a lease leaves
/// unused goes back after `slotLife` (a limit's slots) or at the next tick (a budget's part).
///
/// A lease is never larger than 1/`capDivisor` of what a rule has left (the script caps it), so
/// near its edge a rule is counted call by call, exactly as without leases: every call asks
/// Redis and settles at once. Far from it, settled tokens and costs are sent in batches every
/// tick. Leases are sized from the recent call rate (`horizon` seconds of it).
///
/// ```swift
/// if let slots = book.admitLocally(limits: l, budgets: b, estimate: e, now: now) { … }   // no round trip
/// else { let sync = book.request(limits: l, budgets: b, estimate: e, now: now) … book.apply(reply, of: sync, now: now) }
/// ```
final class LeaseBook: @unchecked Sendable {   // every member behind `lock`
    /// How long a limit's granted slots stay usable (µs); what is left then goes back, counted
    /// in the second it was granted in, so a slot used late shifts its call by at most this.
    static let slotLife: Int64 = 1_000_000
    /// Leases cover this many seconds of the recent call rate.
    static let horizon = 0.3
    /// A lease is at most this fraction of what is left (mirrored in `SharedCounters.syncScript`).
    static let capDivisor: Int64 = 16
    /// Rules unused for this long are forgotten (µs), once nothing of theirs is held.
    static let forgetAfter: Int64 = 10_000_000

    /// A limit named as the script knows it.
    struct LimitRule: Equatable { var name: String; var rpm: Int64; var tpm: Int64 }
    /// A calendar budget's current period (`SharedCounters.budgetID`) and its key lifetimes.
    struct BudgetRule: Equatable { var id: String; var amount: Int64; var inFlightTTL: Int64; var spentTTL: Int64 }

    /// Slots `next..<end` of a limit's minute, granted in Redis's second `second`.
    struct Slots { var next: Int64; var end: Int64; var second: Int64; var expires: Int64 }

    final class Limit {
        var rule: LimitRule
        var slots: [Slots] = []
        /// Unused slots going back: (Redis second, count).
        var returns: [(second: Int64, n: Int64)] = []
        /// Redis's token total at the last sync, and tokens settled here since, not yet sent.
        var tokensKnown: Int64 = 0
        var tokensPending: Int64 = 0
        var synced = false
        var admitted: Int64 = 0
        var rate = 0.0
        var lastUse: Int64 = 0
        init(_ rule: LimitRule) { self.rule = rule }

        var slotsLeft: Int64 { slots.reduce(0) { $0 + $1.end - $1.next } }
        /// Near its token limit: admissions ask Redis and settles go at once.
        var tokensTight: Bool { rule.tpm > 0 && (!synced || 2 * (tokensKnown + tokensPending) >= rule.tpm) }
    }

    final class Budget {
        var rule: BudgetRule
        /// Held in Redis's estimates in flight for this process.
        var reserved: Int64 = 0
        /// Estimates of this process's calls in flight under the reservation.
        var held: Int64 = 0
        /// Costs of settled calls, still inside the reservation, not yet sent as spend.
        var unflushed: Int64 = 0
        /// The fleet's spend plus estimates in flight at the last sync.
        var fleetUsed: Int64 = 0
        var synced = false
        var lastEstimate: Int64 = 0
        var admittedNanos: Int64 = 0
        var rate = 0.0
        var lastUse: Int64 = 0
        init(_ rule: BudgetRule) { self.rule = rule }

        var free: Int64 { reserved - held - unflushed }
        /// Near its amount (a lease would be smaller than two calls): every settle goes at once.
        var tight: Bool { !synced || (rule.amount - fleetUsed) / LeaseBook.capDivisor < max(1, 2 * lastEstimate) }
    }

    /// One round trip's work, for the script (`SharedCounters.syncScript`). Built here with the
    /// pending counts moved out of the book; given back by `restore` if the round trip fails.
    struct Sync {
        struct LimitOp { var rule: LimitRule; var need: Bool; var want: Int64; var tokens: Int64; var returns: [(second: Int64, n: Int64)] }
        struct BudgetOp { var rule: BudgetRule; var need: Bool; var needEstimate: Int64; var want: Int64; var spent: Int64; var release: Int64 }
        var limits: [LimitOp] = []
        var budgets: [BudgetOp] = []
        var isEmpty: Bool { limits.isEmpty && budgets.isEmpty }
    }

    /// The script's answer: Redis's second and, per rule, what it granted and the fleet's counts.
    enum Reply {
        case granted(second: Int64, limits: [(granted: Int64, first: Int64, requests: Int64, tokens: Int64)],
                     budgets: [(granted: Int64, spent: Int64, inFlight: Int64)])
        /// The limit at `limit` (an index into the sync's) has `count` requests (or tokens) in its
        /// minute; one more fits in `wait` seconds.
        case limitReached(limit: Int, tokens: Bool, count: Int64, wait: Int64)
        /// The budget at `budget` has `used` spent and in flight.
        case budgetSpent(budget: Int, used: Int64)
    }

    private let lock = NSLock()
    private var limits: [String: Limit] = [:]
    private var budgets: [String: Budget] = [:]
    private var localAdmissions: Int64 = 0

    /// Calls admitted from leases, with no round trip.
    var localAdmissionCount: Int64 { lock.lock(); defer { lock.unlock() }; return localAdmissions }

    private func limit(_ r: LimitRule) -> Limit {
        if let l = limits[r.name] { if l.rule != r { l.rule = r; l.synced = false }; return l }
        let l = Limit(r); limits[r.name] = l; return l
    }

    private func budget(_ r: BudgetRule) -> Budget {
        if let b = budgets[r.id] { if b.rule != r { b.rule = r; b.synced = false }; return b }
        let b = Budget(r); budgets[r.id] = b; return b
    }

    // MARK: Admission

    /// Admits a call from the leases held, when every rule has room: a slot of each requests
    /// limit, token limits far from their edge, and the estimate inside each budget's
    /// reservation. Returns the slot taken per limit (0 where a limit counts no requests).
    func admitLocally(limits rules: [LimitRule], budgets brules: [BudgetRule], estimate: Int64, now: Int64) -> [Int64]? {
        lock.lock(); defer { lock.unlock() }
        var ls: [Limit] = [], bs: [Budget] = []
        for r in rules {
            guard let l = limits[r.name], l.rule == r, l.synced, !l.tokensTight else { return nil }
            if r.rpm > 0 {
                expire(l, now: now)
                guard !l.slots.isEmpty else { return nil }
            }
            ls.append(l)
        }
        for r in brules {
            guard let b = budgets[r.id], b.rule == r, b.synced, b.free >= estimate, b.fleetUsed < r.amount else { return nil }
            bs.append(b)
        }
        var taken: [Int64] = []
        for l in ls {
            l.admitted += 1; l.lastUse = now
            guard l.rule.rpm > 0 else { taken.append(0); continue }
            taken.append(l.slots[0].next)
            l.slots[0].next += 1
            if l.slots[0].next == l.slots[0].end { l.slots.removeFirst() }
        }
        for b in bs { b.held += estimate; b.admittedNanos += estimate; b.lastEstimate = estimate; b.lastUse = now }
        localAdmissions += 1
        return taken
    }

    /// A call that the leases cannot admit: the round trip that asks Redis for it (and tops up
    /// its rules' leases on the way, and sends what they have pending).
    func request(limits rules: [LimitRule], budgets brules: [BudgetRule], estimate: Int64, now: Int64) -> Sync {
        lock.lock(); defer { lock.unlock() }
        var sync = Sync()
        for r in rules {
            let l = limit(r)
            l.lastUse = now
            sync.limits.append(limitOp(l, need: true, now: now))
        }
        for r in brules {
            let b = budget(r)
            b.lastUse = now; b.lastEstimate = estimate
            var op = budgetOp(b, extra: estimate)
            op.need = true; op.needEstimate = estimate
            sync.budgets.append(op)
        }
        return sync
    }

    private func limitOp(_ l: Limit, need: Bool, now: Int64) -> Sync.LimitOp {
        expire(l, now: now)
        var want: Int64 = 0
        if l.rule.rpm > 0 {
            want = max(0, target(l.rate) - l.slotsLeft) + (need ? 1 : 0)
        }
        let op = Sync.LimitOp(rule: l.rule, need: need, want: want, tokens: l.tokensPending, returns: l.returns)
        l.tokensKnown += l.tokensPending; l.tokensPending = 0; l.returns = []
        return op
    }

    /// Sends the spend settled, keeps a reservation sized for the rate (`extra` more for a call
    /// waiting), gives back the rest.
    private func budgetOp(_ b: Budget, extra: Int64) -> Sync.BudgetOp {
        let target = target(b.rate)
        let keep = min(max(0, b.free), target)
        let release = b.reserved - b.held - keep
        let op = Sync.BudgetOp(rule: b.rule, need: false, needEstimate: 0, want: max(0, target - keep) + extra, spent: b.unflushed, release: release)
        b.reserved = b.held + keep
        b.unflushed = 0
        return op
    }

    /// Takes in Redis's answer. For an admitted call (`sync` from `request`), returns the slot
    /// it took per limit; the rest of each grant becomes the rules' leases.
    @discardableResult
    func apply(_ reply: Reply, of sync: Sync, now: Int64) -> [Int64]? {
        lock.lock(); defer { lock.unlock() }
        switch reply {
        case .limitReached(let i, let tokens, let count, _):
            if i < sync.limits.count, let l = limits[sync.limits[i].rule.name] {
                l.synced = true
                if tokens { l.tokensKnown = max(l.tokensKnown, count) }
            }
            return nil
        case .budgetSpent(let i, let used):
            if i < sync.budgets.count, let b = budgets[sync.budgets[i].rule.id] { b.synced = true; b.fleetUsed = used }
            return nil
        case .granted(let second, let lr, let br):
            var taken: [Int64] = []
            for (op, g) in zip(sync.limits, lr) {
                let l = limit(op.rule)
                l.synced = true
                l.tokensKnown = g.tokens + l.tokensPending
                var first = g.first, n = g.granted
                if op.need {
                    if op.rule.rpm > 0, n > 0 { taken.append(first); first += 1; n -= 1 } else { taken.append(0) }
                    l.admitted += 1
                }
                if n > 0 { l.slots.append(Slots(next: first, end: first + n, second: second, expires: now + Self.slotLife)) }
            }
            for (op, g) in zip(sync.budgets, br) {
                let b = budget(op.rule)
                b.synced = true
                b.fleetUsed = g.spent + g.inFlight
                b.reserved += g.granted
                if op.need { b.held += op.needEstimate; b.admittedNanos += op.needEstimate }
            }
            return taken
        }
    }

    /// Gives back to the book what a failed round trip carried: tokens and spend to send, slots
    /// to return, reservations to release (Redis may have applied them before failing: counting
    /// twice is the side a budget can bear).
    func restore(_ sync: Sync) {
        lock.lock(); defer { lock.unlock() }
        for op in sync.limits {
            let l = limit(op.rule)
            l.tokensPending += op.tokens; l.tokensKnown -= op.tokens
            for r in op.returns { giveBack(l, second: r.second, n: r.n) }
        }
        for op in sync.budgets {
            let b = budget(op.rule)
            b.unflushed += op.spent
            b.reserved += op.release
        }
    }

    // MARK: Settling

    /// A call admitted by Redis or a lease has ended: its tokens and cost are counted here, and
    /// sent now (the returned sync) when one of its rules is near its edge, else with the next tick.
    func settle(limits names: [String], budgets ids: [String], estimate: Int64, tokens: Int64, cost: Int64, now: Int64) -> Sync? {
        lock.lock(); defer { lock.unlock() }
        var urgent = false
        var ls: [Limit] = [], bs: [Budget] = []
        for n in names {
            guard let l = limits[n] else { continue }
            l.tokensPending += max(0, tokens)
            if l.tokensTight { urgent = true }
            ls.append(l)
        }
        for id in ids {
            guard let b = budgets[id] else { continue }
            b.held -= estimate
            b.unflushed += cost
            if b.tight { urgent = true }
            bs.append(b)
        }
        guard urgent else { return nil }
        var sync = Sync()
        for l in ls where l.tokensPending > 0 || !l.returns.isEmpty { sync.limits.append(limitOp(l, need: false, now: now)) }
        for b in bs { var op = budgetOp(b, extra: 0); op.want = 0; sync.budgets.append(op) }
        return sync.isEmpty ? nil : sync
    }

    // MARK: The tick

    /// Every tick (`interval` seconds): measures each rule's rate, sends what is pending, returns
    /// expired slots, tops leases up to the rate and releases what an idle budget holds.
    func tick(now: Int64, interval: Double) -> Sync {
        lock.lock(); defer { lock.unlock() }
        var sync = Sync()
        for (name, l) in limits {
            l.rate = 0.5 * l.rate + 0.5 * Double(l.admitted) / interval
            l.admitted = 0
            expire(l, now: now)
            let target = target(l.rate)
            let needsTopUp = l.rule.rpm > 0 && l.synced && target > l.slotsLeft
            if l.tokensPending > 0 || !l.returns.isEmpty || needsTopUp {
                sync.limits.append(limitOp(l, need: false, now: now))
            } else if now - l.lastUse > Self.forgetAfter && l.slots.isEmpty {
                limits[name] = nil
            }
        }
        for (id, b) in budgets {
            b.rate = 0.5 * b.rate + 0.5 * Double(b.admittedNanos) / interval
            b.admittedNanos = 0
            let target = target(b.rate)
            if b.unflushed != 0 || b.free > target || (b.synced && b.free < target && !b.tight) {
                var op = budgetOp(b, extra: 0)
                if b.tight { op.want = 0 }
                sync.budgets.append(op)
            } else if now - b.lastUse > Self.forgetAfter && b.reserved == 0 && b.held == 0 {
                budgets[id] = nil
            }
        }
        return sync
    }

    /// A lease's size for a rate (whole units: an idle rule's decaying rate comes to 0).
    private func target(_ rate: Double) -> Int64 { Int64(min(rate * Self.horizon, 1e15)) }

    /// Moves a limit's expired slots to its returns.
    private func expire(_ l: Limit, now: Int64) {
        while let s = l.slots.first, s.expires <= now {
            if s.end > s.next { giveBack(l, second: s.second, n: s.end - s.next) }
            l.slots.removeFirst()
        }
    }

    /// Queues unused slots to go back, one entry per second they were granted in (so the list
    /// stays short however often Redis cannot be reached to take them).
    private func giveBack(_ l: Limit, second: Int64, n: Int64) {
        if let i = l.returns.firstIndex(where: { $0.second == second }) { l.returns[i].n += n }
        else { l.returns.append((second, n)) }
    }

    /// Everything held, for the end: pending counts sent, slots and reservations given back.
    func drain(now: Int64) -> Sync {
        lock.lock(); defer { lock.unlock() }
        var sync = Sync()
        for l in limits.values {
            for s in l.slots where s.end > s.next { giveBack(l, second: s.second, n: s.end - s.next) }
            l.slots = []; l.rate = 0
            if l.tokensPending > 0 || !l.returns.isEmpty { var op = limitOp(l, need: false, now: now); op.want = 0; sync.limits.append(op) }
        }
        for b in budgets.values where b.reserved != 0 || b.unflushed != 0 {
            b.rate = 0
            var op = budgetOp(b, extra: 0); op.want = 0
            sync.budgets.append(op)
        }
        return sync
    }

    /// For tests and metrics: a limit's unused slots and a budget's reservation.
    func state(limit name: String) -> (slots: Int64, tokensPending: Int64)? {
        lock.lock(); defer { lock.unlock() }
        return limits[name].map { ($0.slotsLeft, $0.tokensPending) }
    }

    func state(budget id: String) -> (reserved: Int64, held: Int64, unflushed: Int64)? {
        lock.lock(); defer { lock.unlock() }
        return budgets[id].map { ($0.reserved, $0.held, $0.unflushed) }
    }
}
