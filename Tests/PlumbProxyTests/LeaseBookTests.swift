import XCTest
@testable import PlumbProxy

/// `LeaseBook`: what a process may admit without asking Redis, and what it owes Redis back.
/// Redis's side (the script) is driven by the end-to-end tests in Tests/sdk/test_control_redis.py.
final class LeaseBookTests: XCTestCase {
    let rpm = LeaseBook.LimitRule(name: "wide", rpm: 1000, tpm: 0)
    let budget = LeaseBook.BudgetRule(id: "b|0", amount: 1_000_000, inFlightTTL: 120, spentTTL: 86_400)

    func testALimitAdmitsOnlyTheSlotsGrantedAndGivesBackWhatItDidNotUse() throws {
        let book = LeaseBook()
        XCTAssertNil(book.admitLocally(limits: [rpm], budgets: [], estimate: 0, now: 0), "no lease yet: ask Redis")
        let sync = book.request(limits: [rpm], budgets: [], estimate: 0, now: 0)
        XCTAssertEqual(sync.limits.map(\.need), [true])
        XCTAssertEqual(sync.limits[0].want, 1, "no rate measured yet: just the call")
        // Redis granted 5 slots, 11...15; the call takes the first.
        let taken = book.apply(.granted(second: 100, limits: [(granted: 5, first: 11, requests: 15, tokens: 0)], budgets: []), of: sync, now: 0)
        XCTAssertEqual(taken, [11])
        for slot in 12...15 { XCTAssertEqual(book.admitLocally(limits: [rpm], budgets: [], estimate: 0, now: 10), [Int64(slot)]) }
        XCTAssertNil(book.admitLocally(limits: [rpm], budgets: [], estimate: 0, now: 10), "the lease is used up")
        // A second grant, of which one slot is used; the rest expires and goes back to its second.
        let more = book.request(limits: [rpm], budgets: [], estimate: 0, now: 20)
        book.apply(.granted(second: 101, limits: [(granted: 3, first: 16, requests: 18, tokens: 0)], budgets: []), of: more, now: 20)
        XCTAssertEqual(book.admitLocally(limits: [rpm], budgets: [], estimate: 0, now: 30), [17])
        XCTAssertEqual(book.state(limit: "wide")?.slots, 1)
        XCTAssertNil(book.admitLocally(limits: [rpm], budgets: [], estimate: 0, now: 20 + LeaseBook.slotLife), "expired")
        let tick = book.tick(now: 20 + LeaseBook.slotLife, interval: 0.1)
        XCTAssertEqual(tick.limits.first?.returns.map(\.second), [101])
        XCTAssertEqual(tick.limits.first?.returns.map(\.n), [1])
        XCTAssertEqual(book.state(limit: "wide")?.slots, 0)
    }

    func testUnusedSlotsGoBackOneEntryPerSecondHoweverOftenRedisFails() throws {
        let book = LeaseBook()
        for (i, first) in [Int64(1), 10, 20].enumerated() {
            let sync = book.request(limits: [rpm], budgets: [], estimate: 0, now: Int64(i))
            book.apply(.granted(second: 7, limits: [(granted: 5, first: first, requests: first + 4, tokens: 0)], budgets: []), of: sync, now: Int64(i))
        }
        // Three grants of the same second, each with four slots unused: one entry of 12.
        var tick = book.tick(now: 10 + LeaseBook.slotLife, interval: 0.1)
        XCTAssertEqual(tick.limits.first?.returns.map(\.second), [7])
        XCTAssertEqual(tick.limits.first?.returns.map(\.n), [12])
        // Redis keeps failing: what goes back stays one entry, not one per attempt.
        for t in 0..<50 {
            book.restore(tick)
            tick = book.tick(now: 20 + LeaseBook.slotLife + Int64(t) * 100_000, interval: 0.1)
        }
        XCTAssertEqual(tick.limits.first?.returns.count, 1)
        XCTAssertEqual(tick.limits.first?.returns.first?.n, 12)
    }

    func testLeasesFollowTheRateAndAnIdleRuleStopsAsking() throws {
        let book = LeaseBook()
        let sync = book.request(limits: [rpm], budgets: [], estimate: 0, now: 0)
        book.apply(.granted(second: 1, limits: [(granted: 100, first: 1, requests: 100, tokens: 0)], budgets: []), of: sync, now: 0)
        for _ in 0..<99 { XCTAssertNotNil(book.admitLocally(limits: [rpm], budgets: [], estimate: 0, now: 1)) }
        // 100 calls in a 0.1 s tick: 500/s after smoothing, so a lease of 0.3 s is 150 slots.
        let topUp = book.tick(now: 2, interval: 0.1)
        XCTAssertEqual(topUp.limits.first?.want, 150)
        XCTAssertFalse(topUp.limits.first?.need ?? true)
        book.apply(.granted(second: 1, limits: [(granted: 0, first: 101, requests: 100, tokens: 0)], budgets: []), of: topUp, now: 2)
        // Idle: the rate decays to nothing and the rule stops asking, then is forgotten.
        var asked = 0
        for t in 1...200 { if !book.tick(now: 2 + Int64(t) * 100_000, interval: 0.1).isEmpty { asked += 1 } }
        XCTAssertLessThan(asked, 20)
        XCTAssertNil(book.state(limit: "wide"), "forgotten after \(LeaseBook.forgetAfter) µs idle")
    }

    func testABudgetAdmitsInsideItsReservationAndSendsItsSpendOnTheTick() throws {
        let book = LeaseBook()
        let sync = book.request(limits: [], budgets: [budget], estimate: 100, now: 0)
        XCTAssertEqual(sync.budgets[0].needEstimate, 100)
        // Redis reserved 400 for this process (the fleet has 400 in flight, nothing spent).
        book.apply(.granted(second: 1, limits: [], budgets: [(granted: 400, spent: 0, inFlight: 400)]), of: sync, now: 0)
        for _ in 0..<3 { XCTAssertNotNil(book.admitLocally(limits: [], budgets: [budget], estimate: 100, now: 1)) }
        XCTAssertNil(book.admitLocally(limits: [], budgets: [budget], estimate: 100, now: 1), "the reservation is used up")
        XCTAssertEqual(book.state(budget: "b|0")?.held, 400)
        // Far from the amount: a settled call waits for the tick.
        XCTAssertNil(book.settle(limits: [], budgets: ["b|0"], estimate: 100, tokens: 10, cost: 70, now: 2))
        XCTAssertEqual(book.state(budget: "b|0")?.unflushed, 70)
        let tick = book.tick(now: 3, interval: 0.1)
        let op = try XCTUnwrap(tick.budgets.first)
        XCTAssertEqual(op.spent, 70)
        // Redis's in-flight count drops by the released part; what stays reserved covers the 3 calls in flight.
        let state = try XCTUnwrap(book.state(budget: "b|0"))
        XCTAssertEqual(state.unflushed, 0)
        XCTAssertEqual(400 - op.release, state.reserved)
        XCTAssertGreaterThanOrEqual(state.reserved, state.held)
        XCTAssertEqual(state.held, 300)
    }

    func testNearTheEdgeSettlesGoAtOnceAndAFailedRoundTripGivesEverythingBack() throws {
        let book = LeaseBook()
        let tight = LeaseBook.BudgetRule(id: "t|0", amount: 1_000, inFlightTTL: 120, spentTTL: 86_400)
        let tokens = LeaseBook.LimitRule(name: "tok", rpm: 0, tpm: 100)
        let sync = book.request(limits: [tokens], budgets: [tight], estimate: 100, now: 0)
        book.apply(.granted(second: 1, limits: [(granted: 0, first: 1, requests: 0, tokens: 0)], budgets: [(granted: 100, spent: 0, inFlight: 100)]),
                   of: sync, now: 0)
        // 1,000 left / 16 is under two calls' estimates: tight, so the settle goes now.
        let urgent = try XCTUnwrap(book.settle(limits: ["tok"], budgets: ["t|0"], estimate: 100, tokens: 60, cost: 90, now: 1))
        XCTAssertEqual(urgent.budgets.first?.spent, 90)
        XCTAssertEqual(urgent.limits.first?.tokens, 60)
        XCTAssertEqual(book.state(budget: "t|0")?.unflushed, 0)
        // Redis did not answer: the spend and tokens are owed again, and sent with the next tick.
        book.restore(urgent)
        XCTAssertEqual(book.state(budget: "t|0")?.unflushed, 90)
        XCTAssertEqual(book.state(limit: "tok")?.tokensPending, 60)
        let tick = book.tick(now: 2, interval: 0.1)
        XCTAssertEqual(tick.budgets.first?.spent, 90)
        XCTAssertEqual(tick.limits.first?.tokens, 60)
        // 60 of 100 tokens known: past half the limit, so calls ask Redis again.
        book.apply(.granted(second: 2, limits: [(granted: 0, first: 1, requests: 0, tokens: 60)], budgets: [(granted: 0, spent: 90, inFlight: 0)]),
                   of: tick, now: 2)
        XCTAssertNil(book.admitLocally(limits: [tokens], budgets: [], estimate: 0, now: 3))
    }

    func testRefusalsAreReadFromTheScriptsAnswer() throws {
        let granted = try SharedCounters.reply(.array([.integer(0), .integer(7), .integer(2), .integer(11), .integer(12), .integer(0), .integer(400), .integer(5), .integer(405)]),
                                               limits: 1, budgets: 1)
        guard case .granted(7, let l, let b) = granted else { return XCTFail("\(granted)") }
        XCTAssertEqual(l.map(\.first), [11])
        XCTAssertEqual(b.map(\.granted), [400])
        guard case .limitReached(0, true, 61, 4) = try SharedCounters.reply(.array([.integer(2), .integer(1), .integer(61), .integer(4)]), limits: 1, budgets: 0)
        else { return XCTFail() }
        guard case .budgetSpent(1, 999) = try SharedCounters.reply(.array([.integer(3), .integer(2), .integer(999)]), limits: 0, budgets: 2)
        else { return XCTFail() }
        for hostile: RESPValue in [.array([.integer(0), .integer(1)]), .array([.integer(1), .integer(5), .integer(1), .integer(1)]),
                                   .array([.integer(3), .integer(0), .integer(1)]), .error("ERR boom"), .array([.integer(9)]),
                                   .array([.integer(0), .bulk(Array("x".utf8))])] {
            XCTAssertThrowsError(try SharedCounters.reply(hostile, limits: 1, budgets: 1), "\(hostile)")
        }
    }
}
