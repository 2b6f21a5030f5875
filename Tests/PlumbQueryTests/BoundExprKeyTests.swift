import XCTest
@testable import PlumbQuery

/// `BoundExpr.key` names kept partial aggregates: two expressions that can give different
/// values must never share a key.
final class BoundExprKeyTests: XCTestCase {
    func testExpressionsThatDifferHaveDifferentKeys() {
        let col = BoundExpr.column(0, .varchar)
        let exprs: [BoundExpr] = [
            .constant(.int(1), .bigint), .constant(.string("1"), .varchar), .constant(.double(1), .double),
            .constant(.double(0.1), .double), .constant(.double(0.1.nextUp), .double),
            .constant(.timestamp(1), .timestamp), .constant(.null, .varchar), .constant(.null, .bigint),
            .inList(col, [.constant(.string("a b"), .varchar)], negated: false),
            .inList(col, [.constant(.string("a"), .varchar), .constant(.string("b"), .varchar)], negated: false),
            .inList(col, [.constant(.string("a"), .varchar), .constant(.string("b"), .varchar)], negated: true),
            .function(.coalesce, [col, .constant(.string("(none)"), .varchar)], .varchar),
            .function(.coalesce, [col, .constant(.string("(none"), .varchar)], .varchar),
            .compare(.less, .column(0, .bigint), .column(1, .bigint)),
            .compare(.less, .column(1, .bigint), .column(0, .bigint)),
            .compare(.lessEqual, .column(0, .bigint), .column(1, .bigint)),
            .cast(col, .bigint), .cast(col, .double),
            .constant(.interval(Interval(days: 1)), .interval), .constant(.interval(Interval(micros: 86_400_000_000)), .interval),
            .constant(.map(["a": "b=c"]), .map), .constant(.map(["a=b": "c"]), .map),
        ]
        let keys = exprs.map(\.key)
        XCTAssertEqual(Set(keys).count, keys.count, "\(keys)")
        // Equal expressions, equal keys (a kept state is found again).
        XCTAssertEqual(BoundExpr.compare(.less, .column(0, .bigint), .constant(.int(5), .bigint)).key, "(< #0:BIGINT 5:BIGINT)")
        XCTAssertEqual(BoundExpr.keys(exprs), BoundExpr.keys(exprs))
    }

    func testAggregatesDifferInFunctionFractionAndDistinct() {
        let arg = BoundExpr.column(2, .double)
        let specs = [
            AggregateSpec(function: .quantileCont, argument: arg, distinct: false, fraction: 0.95, type: .double, text: "q"),
            AggregateSpec(function: .quantileCont, argument: arg, distinct: false, fraction: 0.5, type: .double, text: "q"),
            AggregateSpec(function: .quantileDisc, argument: arg, distinct: false, fraction: 0.95, type: .double, text: "q"),
            AggregateSpec(function: .sum, argument: arg, distinct: false, fraction: nil, type: .double, text: "s"),
            AggregateSpec(function: .sum, argument: arg, distinct: true, fraction: nil, type: .double, text: "s"),
            AggregateSpec(function: .countStar, argument: nil, distinct: false, fraction: nil, type: .bigint, text: "c"),
        ]
        XCTAssertEqual(Set(specs.map(\.key)).count, specs.count)
    }
}
