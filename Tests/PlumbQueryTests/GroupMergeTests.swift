import XCTest
@testable import PlumbQuery

/// Row groups' own tables (`mergeOnly`) number a dictionary's entries by position, and the
/// table they are merged into joins them by value: repeated entries, nulls and dictionaries
/// that change from one row group to the next must still give one group per distinct key.
final class GroupMergeTests: XCTestCase {
    func dict(_ codes: [UInt32], _ dictionary: [String], valid: [Bool]? = nil) -> Vector {
        Vector(type: .varchar, data: .dict(codes: codes, dictionary: dictionary), validity: valid)
    }

    /// Groups of `parts` merged (each through a mergeOnly table), as key → row count.
    func merged(_ parts: [Vector]) -> [String: Int] {
        let main = GroupTable(keyTypes: [.varchar])
        var counts: [Int] = []
        for v in parts {
            let own = GroupTable(keyTypes: [.varchar])
            own.mergeOnly = true
            let rows = own.groups([v], rows: v.count)
            var ownCounts = [Int](repeating: 0, count: own.count)
            for g in rows { ownCounts[Int(g)] += 1 }
            let map = main.groups(own.mergeKeyColumns(), rows: own.count)
            for (g, m) in map.enumerated() {
                if Int(m) >= counts.count { counts += repeatElement(0, count: Int(m) - counts.count + 1) }
                counts[Int(m)] += ownCounts[g]
            }
        }
        let keys = main.keyColumns()[0]
        var out: [String: Int] = [:]
        for g in 0..<main.count {
            let key = keys.value(at: g) == .null ? "NULL" : ValueText.plain(keys.value(at: g))!
            XCTAssertNil(out[key], "key \(key) has two groups")
            out[key] = counts[g]
        }
        return out
    }

    func testRepeatedEntriesAndNullsJoinByValue() {
        let a = dict([0, 1, 2, 2, 0], ["x", "y", "x"])
        let b = dict([0, 1, 1, 0], ["y", "z"], valid: [true, false, true, true])
        XCTAssertEqual(merged([a, b]), ["x": 4, "y": 3, "z": 1, "NULL": 1])
    }

    func testEntryGroupsNumberGroupsAsRowsDo() {
        // `entryGroups` (a group per dictionary entry, for `AggregateState.consumeByEntry`) must
        // give every row the group `groups` gives it, numbered in the same order, batch after
        // batch: new entries, a repeated entry, NULL keys, entries that do not occur.
        let batches = [
            dict([2, 0, 2, 1], ["a", "b", "c"]),
            dict([0, 3, 0, 1, 2], ["b", "d", "x", "x"], valid: [true, true, false, true, true]),
            dict([1, 1, 0], ["e", "a", "zz"], valid: [false, true, true]),
        ]
        let byRow = GroupTable(keyTypes: [.varchar]), byEntry = GroupTable(keyTypes: [.varchar])
        for v in batches {
            guard case .dict(let codes, let d) = v.data else { return XCTFail("not a dictionary vector") }
            let want = byRow.groups([v], rows: v.count)
            var rows = [Int64](repeating: 0, count: d.count + 1)
            for r in codes.indices { rows[v.validity?[r] ?? true ? Int(codes[r]) : d.count] += 1 }
            let entry = byEntry.entryGroups(codes, d, valid: v.validity, rows: rows)
            let got = codes.indices.map { r in entry[v.validity?[r] ?? true ? Int(codes[r]) : d.count] }
            XCTAssertEqual(got, want)
            XCTAssertEqual(byEntry.count, byRow.count)
            for slot in rows.indices where rows[slot] == 0 { XCTAssertEqual(entry[slot], -1, "an entry that does not occur has no group") }
        }
        XCTAssertEqual(byEntry.count, 7)      // c a b x NULL d e, in first-row order ("zz" never occurs)
        for g in 0..<byRow.count { XCTAssertEqual(byEntry.keyColumns()[0].value(at: g), byRow.keyColumns()[0].value(at: g)) }
    }

    func testShiftingSortedDictionaries() {
        // Consecutive row groups with overlapping sorted dictionaries (entries come and go).
        var parts: [Vector] = []
        var expected: [String: Int] = [:]
        for k in 0..<6 {
            let entries = (0..<50).filter { ($0 + k) % 3 != 0 }.map { String(format: "user-%03d", $0) }
            let codes = (0..<200).map { UInt32(($0 * 7 + k) % entries.count) }
            for c in codes { expected[entries[Int(c)], default: 0] += 1 }
            parts.append(dict(codes, entries))
        }
        XCTAssertEqual(merged(parts), expected)
    }

    func testCoalesceWithConstantKeepsTheDictionary() throws {
        let v = dict([0, 1, 0, 1], ["a", "b"], valid: [true, false, true, true])
        for (fill, expectedDictionary) in [("b", ["a", "b"]), ("(none)", ["a", "b", "(none)"])] {
            let out = try XCTUnwrap(ScalarFunction.coalesceStrings([v, .constant(.string(fill), type: .varchar, count: 4)], count: 4))
            guard case .dict(_, let d) = out.data else { return XCTFail("not dictionary-coded") }
            XCTAssertEqual(d, expectedDictionary)
            XCTAssertEqual((0..<4).map { out.value(at: $0) }, [.string("a"), .string(fill), .string("a"), .string("b")])
        }
    }
}

/// The detector's p95 of a minute is DuckDB's quantile_cont(x, 0.95), whichever way its ranks
/// are found.
final class MinuteTableTests: XCTestCase {
    func testP95MatchesSortedInterpolation() {
        var s: UInt64 = 99
        func next() -> Double { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return Double(s % 10_000) / 7 }
        // Large n take the sampled pivot: also in order, reversed, all equal, with the sampled
        // places the smallest (a low pivot, a long tail) and the largest (the pivot overshoots
        // the rank and the plain selection takes over).
        for n in [1, 2, 3, 5, 19, 20, 21, 40, 100, 333, 1_000, 4_096, 30_001] {
            for shape in 0..<6 where n >= 256 || shape == 0 {
                var values = (0..<n).map { _ in next() }
                if n > 10 { values[3] = values[4] }                       // ties
                switch shape {
                case 1: values.sort()
                case 2: values.sort(by: >)
                case 3: values = [Double](repeating: 42, count: n)
                case 4: for i in 0..<n where i % (n / 63) != 0 { values[i] = 10_000 + Double(i) }
                case 5: for i in 0..<n where i % (n / 63) == 0 { values[i] = 10_000 + Double(i) }
                default: break
                }
                check(values, "n = \(n), shape \(shape)")
            }
        }
    }

    func check(_ input: [Double], _ label: String) {
        var values = input
        let n = values.count
        let sorted = values.sorted()
        let pos = 0.95 * Double(n - 1)
        let lo = Int(pos.rounded(.down)), hi = min(n - 1, lo + 1)
        let expected = sorted[lo] + (pos - Double(lo)) * (sorted[hi] - sorted[lo])
        let got = values.withUnsafeMutableBufferPointer { MinuteTable.p95($0) }
        XCTAssertEqual(got, expected, accuracy: 1e-9 * max(1, abs(expected)), label)
        XCTAssertEqual(values.sorted(), sorted, "\(label): values lost")
    }
}

/// Per-group counts and sums with interleaved accumulators equal the plain loop's, with and
/// without nulls, for few groups and for more groups than lanes allow.
final class GroupedSumsTests: XCTestCase {
    func testLanesAgreeWithThePlainLoop() {
        var s: UInt64 = 5
        func next(_ n: UInt64) -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s % n }
        for groupCount in [1, 3, 41, 70_000] {
            let rows = 5_003
            let groups = (0..<rows).map { _ in Int32(next(UInt64(groupCount))) }
            let values = (0..<rows).map { _ in Int64(next(2_000_001)) - 1_000_000 }
            for valid in [nil, (0..<rows).map { _ in next(5) != 0 }] {
                var sums = [Int64](repeating: 0, count: groupCount), counts = sums
                for i in 0..<rows where valid?[i] ?? true { sums[Int(groups[i])] += values[i]; counts[Int(groups[i])] += 1 }
                let got = GroupedSums.sums(groups, values, groupCount: groupCount, valid: valid)
                XCTAssertEqual(got.sums, sums, "\(groupCount) groups")
                XCTAssertEqual(got.counts, counts, "\(groupCount) groups")
                XCTAssertEqual(GroupedSums.counts(groups, groupCount: groupCount, valid: valid), counts)
                let used = (0..<rows).filter { valid?[$0] ?? true }.map { values[$0] }
                XCTAssertEqual(got.lo, min(0, used.min() ?? 0)); XCTAssertEqual(got.hi, max(0, used.max() ?? 0))
            }
        }
    }
}

/// A sealed run of values and the values added since give every rank the whole set sorted gives.
final class SealedValuesTests: XCTestCase {
    func testRanksOfTwoRunsMatchTheSortedWhole() {
        var s: UInt64 = 11
        func next(_ n: UInt64) -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s % n }
        for (na, nb) in [(1, 0), (0, 1), (5, 3), (100, 1), (1, 100), (64, 64), (300, 7)] {
            let a = (0..<na).map { _ in Double(next(50)) }.sorted(), b = (0..<nb).map { _ in Double(next(50)) }.sorted()
            let whole = (a + b).sorted()
            for k in whole.indices {
                XCTAssertEqual(GroupValues.rank(k, a, b, <), whole[k], "\(na)+\(nb), rank \(k)")
            }
        }
    }
}
