import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
@testable import PlumbQuery

/// The incident detector's minutes: row groups' parts added up give, cell by cell, the counts
/// and p95 of the rows taken together (also where parts overlap in time); parts kept between
/// judgements give what a fresh judgement gives while spans arrive.
final class MinutePartTests: XCTestCase {
    struct Row { var provider: String; var model: String; var ts: Int64; var latency: Double?; var failed: Bool; var cost: Double? }

    static func batch(_ rows: [Row]) -> Batch {
        // A failure is a 5xx, a 429, or an upstream error type whatever the status; a success
        // may have a NULL status or a client's error type.
        let outcomes: [(failed: Bool, status: Int64?, errorType: String?)] = [
            (true, 503, nil), (true, 429, nil), (true, nil, "upstream_timeout"), (true, 499, "stream_reset"),
            (false, 200, nil), (false, nil, nil), (false, 499, "client_closed"), (false, 404, "not_found")]
        let picked = rows.enumerated().map { i, r in outcomes.filter { $0.failed == r.failed }[i % 4] }
        let types = ["upstream_timeout", "stream_reset", "client_closed", "not_found"]
        return Batch(columns: [
            Vector.from(rows.map { .string($0.provider) }, type: .varchar),
            Vector(type: .varchar, data: .dict(codes: rows.map { $0.model == "gpt" ? 0 : 1 }, dictionary: ["gpt", "claude"])),
            Vector(type: .timestamp, data: .int(rows.map(\.ts))),
            Vector(type: .double, data: .double(rows.map { $0.latency ?? 0 }), validity: rows.map { $0.latency != nil }),
            Vector(type: .bigint, data: .int(picked.map { $0.status ?? 0 }), validity: picked.map { $0.status != nil }),
            Vector(type: .varchar, data: .dict(codes: picked.map { UInt32(types.firstIndex(of: $0.errorType ?? "") ?? 0) }, dictionary: types),
                   validity: picked.map { $0.errorType != nil }),
            Vector(type: .double, data: .double(rows.map { $0.cost ?? 0 }), validity: rows.map { $0.cost != nil }),
        ], count: rows.count)
    }

    func quantile95(_ v: [Double]) -> Double {
        let s = v.sorted(), pos = 0.95 * Double(s.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(s.count - 1, lo + 1)
        return s[lo] + (pos - Double(lo)) * (s[hi] - s[lo])
    }

    func testPartsAddUpToTheRowsTakenTogether() {
        var seed: UInt64 = 17
        func next(_ n: UInt64) -> UInt64 { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed % n }
        let minute: Int64 = 60_000_000, first: Int64 = 29_000_000
        var parts: [MinutePart] = [], all: [Row] = []
        for k in 0..<6 {
            // Each part covers its own stretch of minutes, overlapping the next one, plus a few
            // late rows far back (and one part so spread out that only its minutes are kept).
            // The last has one model per provider (its provider level is its model level) and
            // all its rows in two minutes others hold too.
            let rows: [Row] = (0..<400).map { i in
                let m = k == 4 ? Int64(next(5000)) * 37 : k == 5 ? 40 + Int64(next(2)) : Int64(k * 30) + Int64(next(45)) - (i % 50 == 0 ? 20 : 0)
                let provider = k == 5 ? ["openai", "groq"][Int(next(2))] : ["openai", "anthropic", "groq"][Int(next(3))]
                let model = k == 5 ? (provider == "openai" ? "gpt" : "claude") : next(2) == 0 ? "gpt" : "claude"
                return Row(provider: provider, model: model,
                           ts: (first + m) * minute + Int64(next(60_000_000)), latency: next(9) == 0 ? nil : Double(next(100_000)) / 10,
                           failed: next(4) == 0, cost: next(5) == 0 ? nil : Double(next(1000)) / 1000)
            }
            all += rows
            parts.append(MinutePart(MinutePart.Rows(Self.batch(rows))))
        }
        parts.append(MinutePart(MinutePart.Rows(Self.batch([]))))       // an empty batch adds nothing
        let span = 200
        for (level, keyOf) in [(\MinutePart.models, { (r: Row) in r.provider + "/" + r.model }),
                               (\MinutePart.providers, { (r: Row) in r.provider + "/" })] {
            let table = MinuteTable.assemble(parts, level: level, firstMinute: first, minutes: span)
            var want: [String: (n: Int64, f: Int64, cost: Double, lat: [Double])] = [:]
            for r in all {
                let m = MinuteTable.floorMinute(r.ts)
                guard m >= first, m < first + Int64(span) else { continue }
                let key = keyOf(r) + "@\(m * minute)"
                var e = want[key] ?? (0, 0, 0, [])
                e.n += 1
                if r.failed { e.f += 1; e.cost += r.cost ?? 0 }
                if let l = r.latency { e.lat.append(l) }
                want[key] = e
            }
            var seen = 0
            for s in table.names.indices {
                for b in table.buckets(scope: s) {
                    let key = table.names[s].provider + "/" + table.names[s].model + "@\(b.minute)"
                    guard let w = want[key] else { XCTFail("unexpected \(key)"); continue }
                    seen += 1
                    XCTAssertEqual(b.requests, w.n, key); XCTAssertEqual(b.failed, w.f, key)
                    XCTAssertEqual(b.failedCost, w.cost, accuracy: 1e-9, key)
                    if w.lat.isEmpty { XCTAssertNil(b.p95, key) } else { XCTAssertEqual(b.p95 ?? -1, quantile95(w.lat), accuracy: 1e-9, key) }
                }
            }
            XCTAssertEqual(seen, want.count)
        }
    }

    func testKeptPartsGiveTheFreshTablesWhileSpansArrive() throws {
        let dir = DataDirectory(makeTempDirectory() + "/data")
        defer { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }
        var gen = TestSpans(seed: 3)
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 500))
        let base: Int64 = 1_795_255_200_000_000
        var next = 0
        func add(_ n: Int, publish: Bool) throws {
            for k in next..<next + n {
                var s = gen.span(index: 0, baseMicros: base + Int64(k) * 2_000_000)     // one every 2 s
                if s.provider.isEmpty { s.provider = "openai" }
                s.costUSD = Double(k % 7) / 100
                _ = store.append(s)
            }
            next += n
            if publish { try store.sync() } else { try store.flush() }
        }
        try add(2000, publish: true)
        try add(1500, publish: true)
        try add(300, publish: false)
        var kept = QueryEngine(directory: dir)
        kept.minuteParts = MinutePartCache()
        var now = base + Int64(next) * 2_000_000
        for round in 0..<4 {
            if round == 2 { try add(1100, publish: true); try add(200, publish: false) }
            now = base + Int64(next) * 2_000_000 + Int64(round) * 40_000_000
            kept.now = now
            let fresh = IncidentDetector(engine: QueryEngine(directory: dir, now: now))
            let cached = IncidentDetector(engine: kept)
            let since = now - 90 * 60_000_000
            let (wantModels, wantProviders) = try fresh.tables(since: since, until: now)
            let (gotModels, gotProviders) = try cached.tables(since: since, until: now)
            // The failures counted natively are the SQL definition's, per provider.
            let from = MinuteTable.floorMinute(since - 60 * 60_000_000) * 60_000_000
            let sql = "SELECT provider, count_if(\(IncidentDetector.failed)) FROM spans WHERE ts_start >= '\(Timestamp.format(from))' AND ts_start < '\(Timestamp.format(now))' GROUP BY 1"
            let byProvider = Dictionary(uniqueKeysWithValues: try fresh.engine.collect(sql).rows.map { ($0[0], $0[1]) })
            XCTAssertGreaterThan(byProvider.values.filter { $0 != .int(0) }.count, 0, "no failures to count")
            XCTAssertEqual(Set(wantProviders.names.map { Value.string($0.provider) }), Set(byProvider.keys), "round \(round)")
            for (i, name) in wantProviders.names.enumerated() {
                XCTAssertEqual(Value.int(wantProviders.buckets(scope: i).reduce(0) { $0 + $1.failed }), byProvider[.string(name.provider)], "round \(round) \(name.provider)")
            }
            for (got, want) in [(gotModels, wantModels), (gotProviders, wantProviders)] {
                let g = Dictionary(uniqueKeysWithValues: got.names.indices.map { ("\(got.names[$0])", got.buckets(scope: $0)) })
                let w = Dictionary(uniqueKeysWithValues: want.names.indices.map { ("\(want.names[$0])", want.buckets(scope: $0)) })
                XCTAssertEqual(Set(g.keys), Set(w.keys), "round \(round)")
                for (k, wb) in w {
                    let gb = g[k] ?? []
                    XCTAssertEqual(gb.map(\.minute), wb.map(\.minute), "round \(round) \(k)")
                    XCTAssertEqual(gb.map(\.requests), wb.map(\.requests), "round \(round) \(k)")
                    XCTAssertEqual(gb.map(\.failed), wb.map(\.failed), "round \(round) \(k)")
                    XCTAssertEqual(gb.map { $0.p95 ?? -1 }, wb.map { $0.p95 ?? -1 }, "round \(round) \(k)")
                    for (x, y) in zip(gb, wb) { XCTAssertEqual(x.failedCost, y.failedCost, accuracy: 1e-9) }
                }
            }
        }
        let cache = try XCTUnwrap(kept.minuteParts)
        XCTAssertGreaterThan(cache.hits, 0, "kept parts were never used")
        XCTAssertGreaterThan(cache.count, 0)
    }
}
