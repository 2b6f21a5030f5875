import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
@testable import PlumbQuery

/// Minute rollups stand in for row groups without changing a figure: the detector's tables
/// from rollups equal those from the row groups, also when late spans put a minute a rollup
/// kept only the p95 of into another segment, when a rollup is damaged, and across compaction.
final class MinuteRollupTests: XCTestCase {
    let base: Int64 = 1_795_255_200_000_000
    let minute: Int64 = 60_000_000

    func testAPartSurvivesItsBytesWithOnlyEdgeLatencies() throws {
        var list: [MinutePartTests.Row] = []
        for i in 0..<900 {
            let latency: Double? = i % 11 == 0 ? nil : Double(i % 97) * 1.5
            let cost: Double? = i % 7 == 0 ? nil : Double(i) / 1000
            list.append(MinutePartTests.Row(provider: i % 2 == 0 ? "openai" : "groq", model: i % 3 == 0 ? "gpt" : "claude",
                                            ts: base + Int64(i) * 400_000, latency: latency, failed: i % 5 == 0, cost: cost))
        }
        let rows = MinutePart.Rows(MinutePartTests.batch(list))
        let part = MinutePart(rows)
        let back = try MinutePart(decoding: part.encoded())
        XCTAssertEqual(back.minutes, part.minutes)
        for (a, b) in [(part.models, back.models), (part.providers, back.providers)] {
            XCTAssertTrue(b.trimmed)
            let names: (MinutePart.Level) -> [String] = { l in l.names.map { n in n.provider + "/" + n.model } }
            XCTAssertEqual(names(a), names(b))
            XCTAssertEqual(a.requests, b.requests); XCTAssertEqual(a.failed, b.failed); XCTAssertEqual(a.failedCost, b.failedCost)
            XCTAssertEqual(a.p95, b.p95)
            for c in a.requests.indices {
                // Latencies are kept where no p95 is (the part's first and last minute).
                let kept: [Double] = a.p95[c] == nil ? a.latencies(c).sorted() : []
                XCTAssertEqual(b.latencies(c).sorted(), kept, "cell \(c)")
            }
            XCTAssertLessThan(b.latencies.count, a.latencies.count)
        }
        let whole = try MinutePart(decoding: part.encoded(keepLatencies: { _ in true }))
        XCTAssertEqual(whole.models.p95, part.models.p95)
        for c in part.models.requests.indices { XCTAssertEqual(whole.models.latencies(c).sorted(), part.models.latencies(c).sorted()) }
        // Latencies come back bit for bit, whole milliseconds to nanoseconds, and any double.
        let odd: [Double] = [0, 1, 1.5, 1234.567, 5.826814, 0.1 + 0.2, -0.0, .pi, 1e300, .nan, 3e-9]
        for values in [[0, 1, 250], [1234.567, 2.5], [5.826814, 0.000001], odd] {
            let back = MinutePart.scaled(values[...]).map { s in s.values.map { Double($0) / MinutePart.scales[Int(s.digits)]! } } ?? values
            XCTAssertEqual(back.map(\.bitPattern).sorted(), values.map(\.bitPattern).sorted(), "\(values)")
        }
        XCTAssertNil(MinutePart.scaled(odd[...]))
        XCTAssertEqual(MinutePart.scaled([5.826814, 1][...])?.digits, 6)
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = dir + "/abc.minutes"
        var bytes = MinuteRollups.encode(hash: "abc", parts: [0: part, 3: part])
        try FileSystem.writeAtomically(name, bytes)
        XCTAssertEqual(try MinuteRollups.decodeAll(name, hash: "abc").keys.sorted(), [0, 3])
        XCTAssertThrowsError(try MinuteRollups.decodeAll(name, hash: "abd"))
        for at in [bytes.count / 3, bytes.count - 5] {
            bytes[at] ^= 0x40
            try FileSystem.writeAtomically(name, bytes)
            XCTAssertThrowsError(try MinuteRollups.decodeAll(name, hash: "abc"), "byte \(at) damaged")
            bytes[at] ^= 0x40
        }
        try FileSystem.writeAtomically(name, Array(bytes.prefix(bytes.count - 10)))
        XCTAssertThrowsError(try MinuteRollups.decodeAll(name, hash: "abc"), "truncated")
    }

    func testRollupsGiveTheTablesTheRowGroupsGive() throws {
        let dir = DataDirectory(makeTempDirectory() + "/data")
        defer { try? FileManager.default.removeItem(atPath: FileSystem.directory(of: dir.path)) }
        var gen = TestSpans(seed: 5)
        var options = StoreOptions.manual(rowGroupSize: 700)
        options.compaction = true; options.compactionTargetRows = 5_000; options.compactionMinSegments = 3
        let store = try SpanStore(directory: dir, options: options)
        var next = 0
        // Spans every 1.5 s in four segments; the last also has spans that started minutes back,
        // inside the first segment's row groups (long requests that landed late).
        func add(_ n: Int, late: Int = 0) throws {
            for k in next..<next + n {
                var s = gen.span(index: 0, baseMicros: base + Int64(k) * 1_500_000)
                if s.provider.isEmpty { s.provider = "openai" }
                s.costUSD = Double(k % 7) / 100
                _ = store.append(s)
            }
            for k in 0..<late {
                var s = gen.span(index: 0, baseMicros: base + Int64(300 + k * 40) * 1_500_000)
                s.provider = "openai"
                _ = store.append(s)
            }
            next += n
            try store.sync()
        }
        try add(2000); try add(1500); try add(900)
        let writer = RollupWriter(directory: dir)
        XCTAssertEqual(try writer.update().written, 3)
        XCTAssertEqual(try writer.update().written, 0, "a rollup is written once")
        // Late spans after the rollups of their minutes were written: those row groups are read.
        try add(600, late: 12)
        XCTAssertEqual(try writer.update().written, 1)
        // Judged as of a whole minute: no rows of the last minute are after it.
        let now = (MinuteTable.floorMinute(base + Int64(next) * 1_500_000) + 1) * minute
        let live = try StoreReader(directory: dir).view().live
        try assertSameTables(dir, now: now, expectRereads: true)
        try assertSameIncidents(dir, now: now)
        // Written once they had landed, the rollups keep those minutes' latencies.
        for r in live { try FileSystem.remove(MinuteRollups.file(dir.rollups, hash: r.sha256)) }
        XCTAssertEqual(try RollupWriter(directory: dir).update().written, 4)
        try assertSameTables(dir, now: now, expectRereads: false)

        // A damaged rollup is not used, and a new writer writes it again.
        let damaged = MinuteRollups.file(dir.rollups, hash: live[0].sha256)
        var bytes = try FileSystem.readAll(damaged)
        bytes[bytes.count - 3] ^= 0xFF
        try FileSystem.writeAtomically(damaged, bytes)
        try assertSameTables(dir, now: now, expectRereads: false)     // its row group is read as if it had none
        XCTAssertEqual(try RollupWriter(directory: dir).update().written, 1)

        // Compaction: the replaced segments' rollups go, the new segment's comes.
        store.maintainNow()
        let after = try StoreReader(directory: dir).view().live
        XCTAssertLessThan(after.count, live.count)
        let round = try writer.update()
        XCTAssertGreaterThan(round.written, 0); XCTAssertGreaterThan(round.removed, 0)
        XCTAssertEqual(Set(FileSystem.list(dir.rollups)), Set(after.map { $0.sha256 + ".minutes" }))
        try assertSameTables(dir, now: now, expectRereads: nil)   // late spans may still sit apart
        try store.close()
    }

    /// The detector's tables with rollups (fresh, as a cold process reads them) equal those read
    /// from the row groups, bucket by bucket.
    func assertSameTables(_ dir: DataDirectory, now: Int64, expectRereads: Bool?, file: StaticString = #filePath, line: UInt = #line) throws {
        var plain = QueryEngine(directory: dir, now: now)
        plain.minuteRollups = nil
        let rolled = QueryEngine(directory: dir, now: now)
        let since = base
        let (wantModels, wantProviders) = try IncidentDetector(engine: plain).tables(since: since, until: now)
        let (gotModels, gotProviders) = try IncidentDetector(engine: rolled).tables(since: since, until: now)
        if let expectRereads { XCTAssertEqual(rolled.minuteRollups!.rereads > 0, expectRereads, "row groups read again", file: file, line: line) }
        XCTAssertGreaterThan(rolled.minuteRollups!.partsRead, 0, "rollups not read", file: file, line: line)
        XCTAssertEqual(plain.minuteRollups?.partsRead, nil)
        for (got, want) in [(gotModels, wantModels), (gotProviders, wantProviders)] {
            XCTAssertEqual(got.names.map { "\($0)" }.sorted(), want.names.map { "\($0)" }.sorted(), file: file, line: line)
            XCTAssertGreaterThan(want.names.count, 0)
            for (i, name) in want.names.enumerated() {
                guard let j = got.names.firstIndex(where: { $0 == name }) else { continue }
                let w = want.buckets(scope: i), g = got.buckets(scope: j)
                XCTAssertEqual(g.map(\.minute), w.map(\.minute), file: file, line: line)
                XCTAssertEqual(g.map(\.requests), w.map(\.requests), file: file, line: line)
                XCTAssertEqual(g.map(\.failed), w.map(\.failed), file: file, line: line)
                XCTAssertEqual(g.map { $0.p95 ?? -1 }, w.map { $0.p95 ?? -1 }, "\(name)", file: file, line: line)
                for (x, y) in zip(g, w) { XCTAssertEqual(x.failedCost, y.failedCost, accuracy: 1e-9, file: file, line: line) }
            }
        }
    }

    func assertSameIncidents(_ dir: DataDirectory, now: Int64) throws {
        var plain = QueryEngine(directory: dir, now: now)
        plain.minuteRollups = nil
        let want = try IncidentDetector(engine: plain).detect(since: base, until: now)
        let got = try IncidentDetector(engine: QueryEngine(directory: dir, now: now)).detect(since: base, until: now)
        XCTAssertEqual(got, want)
    }
}
