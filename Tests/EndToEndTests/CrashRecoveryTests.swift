import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport

/// Drives the real binary: kill -9 in the middle of an import, then restart.
final class CrashRecoveryTests: XCTestCase {
    func testKill9MidImportKeepsEveryAcknowledgedSpanExactlyOnce() throws {
        let tmp = makeTempDirectory("plumb-e2e")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let file = tmp + "/spans.jsonl"
        let spans = try writeSpanFile(file, count: 120_000, seed: 31, bodies: true)
        let data = tmp + "/data"

        let durableLine = Box(0)
        let process = try PlumbProcess.start(["import", "--data", data, "--checkpoint-every", "4000", file]) { line in
            // "durable through line L (N spans)"
            let parts = line.split(separator: " ")
            if parts.count >= 4, parts[0] == "durable", let l = Int(parts[3]) { durableLine.set(l) }
        }
        let deadline = Date().addingTimeInterval(120)
        while durableLine.get() < 20_000 && process.isRunning && Date() < deadline { usleep(2_000) }
        XCTAssertTrue(process.isRunning, "import finished before it could be killed; make the file larger")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let acknowledged = durableLine.get()
        XCTAssertGreaterThanOrEqual(acknowledged, 20_000)

        // Restart: any writer open replays the WAL and publishes it.
        let empty = tmp + "/empty.jsonl"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let restart = try PlumbProcess.run(["import", "--data", data, empty])
        XCTAssertEqual(restart.status, 0, restart.stderr)

        let stored = try StoreReader(directory: DataDirectory(data)).spans(includeBodies: true)
        var seen: [String: Span] = [:]
        for s in stored {
            XCTAssertNil(seen[s.spanID], "span \(s.spanID) stored twice")
            seen[s.spanID] = s
        }
        let known = Dictionary(uniqueKeysWithValues: spans.map { ($0.spanID, $0) })
        for s in stored { XCTAssertTrue(known[s.spanID].map { sameSpan($0, s) } ?? false, "stored span \(s.spanID) differs from its line") }
        for s in spans.prefix(acknowledged) {
            XCTAssertNotNil(seen[s.spanID], "acknowledged span \(s.spanID) lost")
        }
        let verify = try PlumbProcess.run(["verify", "--data", data])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    }

    func testReaderProcessReadsWhileWriterWrites() throws {
        let tmp = makeTempDirectory("plumb-e2e")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let file = tmp + "/spans.jsonl"
        let spans = try writeSpanFile(file, count: 60_000, seed: 32)
        let data = tmp + "/data"
        let process = try PlumbProcess.start(["import", "--data", data, "--checkpoint-every", "2000", file]) { _ in }
        var last = 0, reads = 0
        while process.isRunning {
            if FileManager.default.fileExists(atPath: data + "/catalog.sqlite") {
                let reader = try StoreReader(directory: DataDirectory(data))
                let got = try reader.spans()
                XCTAssertEqual(reader.problems, [])
                XCTAssertEqual(Set(got.map(\.spanID)).count, got.count, "duplicates seen by a reader")
                XCTAssertGreaterThanOrEqual(got.count, last, "a reader saw spans disappear")
                last = got.count
                reads += 1
            }
            usleep(50_000)
        }
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertGreaterThan(reads, 2)
        XCTAssertEqual(try StoreReader(directory: DataDirectory(data)).spans().count, spans.count)
    }
}
