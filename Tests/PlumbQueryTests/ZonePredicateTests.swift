import XCTest
import PlumbStore
@testable import PlumbQuery

/// Zone maps may skip a chunk only when no row can match, and skip evaluating a term only when
/// every row matches.
final class ZonePredicateTests: XCTestCase {
    func zone(_ lo: Int64, _ hi: Int64, nulls: Int = 0, rows: Int = 10) -> ZoneMap {
        ZoneMap(bounds: .int(min: lo, max: hi), nullCount: nulls, rowCount: rows)
    }

    func pred(_ lower: (Int64, Bool)? = nil, _ upper: (Int64, Bool)? = nil, isNull: Bool? = nil) -> ZonePredicate {
        var p = ZonePredicate(column: "status")
        p.lower = lower.map { (.int($0.0), inclusive: $0.1) }
        p.upper = upper.map { (.int($0.0), inclusive: $0.1) }
        p.isNull = isNull
        return p
    }

    func testMayMatchAndAlwaysMatches() {
        let ge500 = pred((500, true))
        XCTAssertFalse(ge500.mayMatch(zone(200, 499)))
        XCTAssertTrue(ge500.mayMatch(zone(200, 500)))
        XCTAssertFalse(ge500.alwaysMatches(zone(200, 500)))
        XCTAssertTrue(ge500.alwaysMatches(zone(500, 599)))
        XCTAssertFalse(ge500.alwaysMatches(zone(500, 599, nulls: 1)), "a NULL row fails the comparison")
        let gt500 = pred((500, false))
        XCTAssertFalse(gt500.alwaysMatches(zone(500, 599)))
        XCTAssertFalse(gt500.mayMatch(zone(100, 500)))
        let between = pred((10, true), (20, false))
        XCTAssertTrue(between.alwaysMatches(zone(10, 19)))
        XCTAssertFalse(between.alwaysMatches(zone(10, 20)))
        XCTAssertFalse(between.mayMatch(zone(20, 30)))
        XCTAssertFalse(pred((0, true)).mayMatch(zone(0, 0, nulls: 10, rows: 10)), "all NULL: no comparison holds")
        XCTAssertTrue(pred(isNull: true).alwaysMatches(zone(0, 0, nulls: 10, rows: 10)))
        XCTAssertFalse(pred(isNull: true).mayMatch(zone(1, 2)))
        XCTAssertTrue(pred(isNull: false).alwaysMatches(zone(1, 2)))
        XCTAssertFalse(ge500.alwaysMatches(ZoneMap(bounds: .none, nullCount: 0, rowCount: 10)), "no bounds: prove nothing")
    }

    func testStringBoundsUseTheMinimumPrefixSafely() {
        var p = ZonePredicate(column: "model")
        p.lower = (.string("gpt-4o"), inclusive: true)
        // A stored minimum is a prefix of the true minimum (never above it).
        let z = ZoneMap(bounds: .string(min: "gpt-4o", max: "gpt-4o-mini"), nullCount: 0, rowCount: 5)
        XCTAssertTrue(p.alwaysMatches(z))
        p.lower = (.string("gpt-4o-"), inclusive: true)
        XCTAssertFalse(p.alwaysMatches(z), "the true minimum might be gpt-4o itself")
        XCTAssertTrue(p.mayMatch(z))
    }
}
