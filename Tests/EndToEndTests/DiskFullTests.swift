import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport

/// Runs out of space (a file-size limit via `ulimit -f`, which makes writes fail with EFBIG the
/// way a full disk fails them with ENOSPC) in the middle of an import.
final class DiskFullTests: XCTestCase {
    func testImportThatRunsOutOfSpaceFailsClearlyAndLosesNothingStored() throws {
        let tmp = makeTempDirectory("plumb-full")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let data = tmp + "/data"
        let first = try writeSpanFile(tmp + "/a.jsonl", count: 3_000, seed: 71)
        XCTAssertEqual(try PlumbProcess.run(["import", "--data", data, tmp + "/a.jsonl"]).status, 0)
        _ = try writeSpanFile(tmp + "/b.jsonl", count: 40_000, seed: 72, bodies: true)

        let limited = try PlumbProcess.run(executable: "/bin/bash",
            ["-c", "ulimit -f 256; exec \"$0\" import --data \"$1\" \"$2\"", PlumbProcess.binary, data, tmp + "/b.jsonl"])
        let message = limited.stderr
        XCTAssertEqual(limited.reason, .exit, "must exit with an error, not die of a signal")
        XCTAssertNotEqual(limited.status, 0)
        XCTAssertTrue(message.hasPrefix("plumb: error: import stopped:"), message)
        XCTAssertTrue(message.contains("File too large"), message)

        // With space again: the store checks out, and everything stored before is still there.
        XCTAssertEqual(try PlumbProcess.run(["import", "--data", data, "/dev/null"]).status, 0)
        let verify = try PlumbProcess.run(["verify", "--data", data])
        XCTAssertEqual(verify.status, 0, verify.stdout)
        let stored = try StoreReader(directory: DataDirectory(data)).spans(includeBodies: true)
        XCTAssertEqual(Set(stored.map(\.spanID)).count, stored.count, "no duplicates")
        let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.spanID, $0) })
        for s in first { XCTAssertTrue(byID[s.spanID].map { sameSpan($0, s) } ?? false, "lost \(s.spanID)") }
    }
}
