import XCTest
@testable import PlumbQuery

/// The fast paths of the evaluator must agree with the plain ones: decimals compared as integers,
/// hex ids compared as words, columns against constants.
final class VectorKernelTests: XCTestCase {
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
    }

    func testDecimalComparisonsAgreeWithDoubleComparisons() throws {
        var r = Rng(s: 7)
        for exponent in [0, 1, 3, 6, 9] {
            let scaled = (0..<500).map { _ in Int64(r.next() % 2_000_001) - 1_000_000 }
            let decimal = Vector(type: .double, data: .decimal(DecimalValues(scaled: scaled, exponent: exponent)))
            let plain = Vector(type: .double, data: .double(scaled.map { Double($0) / DecimalValues.powers[exponent] }))
            var constants: [Double] = [0, -0.0, 1, -1, 0.5, 1e-9, 123.456, 1e6, -999.999]
            constants += scaled.prefix(20).map { Double($0) / DecimalValues.powers[exponent] }          // exact hits
            constants += scaled.prefix(20).map { Double($0) / DecimalValues.powers[exponent] + 1e-7 }   // just above
            for k in constants {
                for op in [BinaryOp.equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual] {
                    let a = try Evaluator.compare(op, decimal, .constant(.double(k), type: .double, count: 500))
                    let b = try Evaluator.compare(op, plain, .constant(.double(k), type: .double, count: 500))
                    XCTAssertEqual(Evaluator.selected(a), Evaluator.selected(b), "10^-\(exponent), \(op.rawValue) \(k)")
                    let c = try Evaluator.compare(op, .constant(.double(k), type: .double, count: 500), decimal)
                    let d = try Evaluator.compare(op, .constant(.double(k), type: .double, count: 500), plain)
                    XCTAssertEqual(Evaluator.selected(c), Evaluator.selected(d), "\(k) \(op.rawValue) column")
                }
            }
        }
    }

    func testDecimalSumsMatchDoubleSums() throws {
        var r = Rng(s: 11)
        let scaled = (0..<10_000).map { _ in Int64(r.next() % 10_000_000) }
        let groups = (0..<10_000).map { _ in Int32(r.next() % 7) }
        let valid = (0..<10_000).map { _ in r.next() % 5 != 0 }
        let a = DoubleSumAccumulator(average: false), b = DoubleSumAccumulator(average: false)
        a.update(groups, groupCount: 7, Vector(type: .double, data: .decimal(DecimalValues(scaled: scaled, exponent: 7)), validity: valid))
        b.update(groups, groupCount: 7, Vector(type: .double, data: .double(scaled.map { Double($0) / 1e7 }), validity: valid))
        let x = a.finish(groupCount: 7), y = b.finish(groupCount: 7)
        for g in 0..<7 {
            guard case .double(let p) = x.value(at: g), case .double(let q) = y.value(at: g) else { return XCTFail("null sum") }
            XCTAssertEqual(p, q, accuracy: abs(q) * 1e-12)
        }
    }

    /// `x IN (...)` on dictionary codes (decided once per entry) and on a constant agrees
    /// with the same strings row by row, NULLs in the column and in the list included.
    func testInListOnCodesAgreesWithStrings() throws {
        let dictionary = ["upstream_timeout", "", "stream_reset", "client_closed"]
        let codes: [UInt32] = [0, 1, 2, 3, 0, 2, 1, 3, 3]
        let valid = [true, false, true, true, false, true, true, true, false]
        let coded = Vector(type: .varchar, data: .dict(codes: codes, dictionary: dictionary), validity: valid)
        let plain = Vector.from(codes.indices.map { valid[$0] ? .string(dictionary[Int(codes[$0])]) : .null }, type: .varchar)
        let lists: [[Value]] = [["upstream_timeout", "stream_reset"].map(Value.string), [.string("nope")],
                                [.string("client_closed"), .null], [.null]]
        for list in lists {
            let items = list.map { BoundExpr.constant($0, .varchar) }
            for negated in [false, true] {
                let batch = Batch(columns: [], count: codes.count)
                let a = try Evaluator.inList(coded, items, negated: negated, batch)
                let b = try Evaluator.inList(plain, items, negated: negated, batch)
                XCTAssertEqual((0..<codes.count).map { a.value(at: $0) }, (0..<codes.count).map { b.value(at: $0) }, "\(list) negated \(negated)")
                for v in [Value.string("stream_reset"), .string("x"), .null] {
                    let c = try Evaluator.inList(.constant(v, type: .varchar, count: 3), items, negated: negated, batch)
                    let d = try Evaluator.inList(Vector.from([v, v, v], type: .varchar), items, negated: negated, batch)
                    XCTAssertEqual((0..<3).map { c.value(at: $0) }, (0..<3).map { d.value(at: $0) }, "\(v) IN \(list)")
                }
            }
        }
    }

    /// A total of doubles (one group, four running sums) equals the row-by-row sum to rounding,
    /// counts only present rows, and keeps +0.0 when the values are -0.0 or NULL.
    func testATotalOfDoublesMatchesTheRowByRowSum() {
        var r = Rng(s: 23)
        for n in [0, 1, 2, 3, 4, 5, 7, 8, 9, 1_001] {
            for withNulls in [false, true] {
                let x = (0..<n).map { _ in Double(r.next() % 1_000_000) / 7 - 50_000 }
                let valid = withNulls ? (0..<n).map { _ in r.next() % 3 != 0 } : nil
                let total = DoubleSumAccumulator(average: false)
                total.update([Int32](repeating: 0, count: n), groupCount: 1, Vector(type: .double, data: .double(x), validity: valid))
                let want = x.indices.filter { valid?[$0] ?? true }.reduce(0.0) { $0 + x[$1] }
                let present = x.indices.filter { valid?[$0] ?? true }.count
                XCTAssertEqual(total.counts[0], Int64(present), "n = \(n)")
                XCTAssertEqual(total.sums[0], want, accuracy: 1e-9 * max(1, abs(want)), "n = \(n)")
            }
        }
        let zeros = DoubleSumAccumulator(average: false)
        zeros.update([0, 0, 0, 0, 0], groupCount: 1, Vector(type: .double, data: .double([-0.0, -0.0, 1, -0.0, -0.0]), validity: [true, true, false, true, true]))
        XCTAssertEqual(zeros.sums[0], 0)
        XCTAssertEqual(zeros.sums[0].sign, .plus)
        XCTAssertEqual(zeros.counts[0], 4)
    }

    /// Buckets of a column (one division per bucket met, rows in time order or not) are each
    /// row's own `time_bucket`, NULL rows, negative times and month widths included.
    func testBucketsOfAColumnAreEachRowsBucket() throws {
        var r = Rng(s: 31)
        let base: Int64 = 1_795_255_200_000_000
        var sorted = (0..<3_000).map { _ in base + Int64(r.next() % 86_400_000_000) }
        sorted.sort()
        let shuffled = sorted.map { _ in base + Int64(r.next() % 86_400_000_000) - 43_200_000_000 }
        let negative = sorted.map { -$0 / 1_000 }
        let boundaries = (0..<3_000).map { base + Int64($0) * 30_000_000 }      // every other one starts a minute
        let widths = [Interval(months: 0, days: 0, micros: 60_000_000), Interval(months: 0, days: 0, micros: 900_000_000),
                      Interval(months: 0, days: 1, micros: 0), Interval(months: 0, days: 0, micros: 7), Interval(months: 1, days: 0, micros: 0)]
        for ts in [sorted, shuffled, negative, boundaries] {
            let valid = ts.indices.map { $0 % 11 != 3 }
            for w in widths {
                let got = try TimeMath.buckets(w, ts, valid: valid)
                for i in ts.indices where valid[i] {
                    XCTAssertEqual(got[i], try TimeMath.bucket(w, ts[i]), "\(w) row \(i)")
                }
            }
        }
    }

    func testHexEqualityMatchesStringEquality() throws {
        let ids = ["0123456789abcdef0123456789abcdef", "ffffffffffffffff0000000000000000", "0123456789abcdef0123456789abcdee"]
        var words: [[Int64]] = [[], []]
        for id in ids {
            let b = Array(id.utf8)
            for k in 0..<2 {
                let part = String(decoding: b[(k * 16)..<(k * 16 + 16)], as: UTF8.self)
                words[k].append(Int64(bitPattern: UInt64(part, radix: 16)!))
            }
        }
        let hex = Vector(type: .varchar, data: .hex(HexStrings(words: words, length: 32)))
        XCTAssertEqual((0..<3).map { hex.value(at: $0) }, ids.map(Value.string))
        for probe in ids + ["0123456789ABCDEF0123456789ABCDEF", "short", ""] {
            for op in [BinaryOp.equal, .notEqual] {
                let got = try Evaluator.compare(op, hex, .constant(.string(probe), type: .varchar, count: 3))
                let want = ids.map { op == .equal ? $0 == probe : $0 != probe }
                XCTAssertEqual((0..<3).map { got.value(at: $0) == .bool(true) }, want, "\(op.rawValue) \(probe)")
            }
        }
    }
}

/// Three GROUP BY keys are packed into one integer while each key's number fits 21 bits; past
/// that the groups move to the general table and keep their numbers.
final class GroupTableTripleTests: XCTestCase {
    func ints(_ v: [Int64]) -> Vector { Vector(type: .bigint, data: .int(v)) }

    func testGroupsKeepTheirNumbersWhenAKeyOutgrowsThePacking() {
        let t = GroupTable(keyTypes: [.bigint, .bigint, .bigint])
        let first = t.groups([ints([1, 2, 1]), ints([7, 7, 7]), ints([0, 0, 0])], rows: 3)
        XCTAssertEqual(first, [0, 1, 0])
        // 2^21 + 10 distinct values in the third key: numbers past 2^21.
        let n = (1 << 21) + 10
        let many = t.groups([ints([Int64](repeating: 1, count: n)), ints([Int64](repeating: 7, count: n)), ints((0..<Int64(n)).map { $0 })],
                            rows: n)
        XCTAssertEqual(many[0], 0)                         // (1, 7, 0) is still group 0
        XCTAssertEqual(Set(many).count, n)
        XCTAssertEqual(t.count, n + 1)                      // plus (2, 7, 0)
        let again = t.groups([ints([2, 1, 1]), ints([7, 7, 7]), ints([0, 0, Int64(n - 1)])], rows: 3)
        XCTAssertEqual(again, [1, 0, many[n - 1]])
    }
}
