import Foundation
import XCTest
import PlumbCore
@testable import PlumbStore
import PlumbTestSupport

/// `plumb import` on hostile files: a line longer than the limit is reported and skipped without
/// being kept, and a long line costs one pass, however many reads it spans.
final class ImportLimitsTests: XCTestCase {
    func testALineOverTheLimitIsSkippedAndTheRestImported() throws {
        let tmp = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var gen = TestSpans(seed: 9)
        let spans = gen.spans(3)
        func line(_ s: Span) -> String { s.jsonLine() }
        var big = spans[1]
        big.requestBody = String(repeating: "x", count: 9 << 20)          // 9 MiB: spans three reads
        let text = line(spans[0]) + "\n" + line(big) + "\n" + "{\"junk\": \"" + String(repeating: "y", count: 6 << 20) + "\"}\n" + line(spans[2]) + "\n"
        try text.write(toFile: tmp + "/in.jsonl", atomically: false, encoding: .utf8)
        let store = try SpanStore(directory: DataDirectory(tmp + "/d"), options: .manual(rowGroupSize: 100))
        var importer = SpanImporter(store: store)
        importer.maxLineBytes = 10 << 20
        var errors: [(Int, String)] = []
        var summary = try importer.run(path: tmp + "/in.jsonl") { errors.append(($0, $1)) }
        XCTAssertEqual(summary.imported, 3)
        XCTAssertEqual(summary.lines, 4)
        XCTAssertEqual(errors.map(\.0), [3], "the junk line is invalid")
        importer.maxLineBytes = 8 << 20
        errors = []
        summary = try importer.run(path: tmp + "/in.jsonl") { errors.append(($0, $1)) }
        XCTAssertEqual(summary.imported, 2)
        XCTAssertEqual(summary.skipped, 2, "the long line and the junk")
        XCTAssertEqual(errors.map(\.0), [2, 3])
        XCTAssertTrue(errors.first?.1.contains("over 8388608 bytes") ?? false, "\(errors)")
        try store.close()
    }
}

/// A compressed block's stated size is believed only as far as LZ4 can expand (about 255 times):
/// a forged page, frame or body header cannot make a reader allocate gigabytes.
final class LZ4LimitsTests: XCTestCase {
    func testAForgedSizeIsRefusedBeforeAnyAllocation() throws {
        let data = [UInt8](repeating: 7, count: 100_000)
        let packed = LZ4.compress(data)
        XCTAssertEqual(try LZ4.decompress(packed, originalSize: data.count), data, "a real block, at its real ratio")
        XCTAssertThrowsError(try LZ4.decompress(Array(packed.prefix(8)), originalSize: 1 << 30)) {
            XCTAssertTrue("\($0)".contains("cannot hold"), "\($0)")
        }
        let zeros = [UInt8](repeating: 0, count: 16 << 20)      // the best ratio LZ4 reaches
        XCTAssertEqual(try LZ4.decompress(LZ4.compress(zeros), originalSize: zeros.count).count, zeros.count)
    }
}
