import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport
import XCTest

/// The bounds the exporters rely on: an answer is read up to `maxResponseBytes`, and a body
/// reader keeps a few files open, however many it reads.
final class BoundsTests: XCTestCase {
    func testAnAnswerIsReadOnlyUpToTheClientsLimit() throws {
        let dir = makeTempDirectory("plumb-http")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(repeating: 0x61, count: 5 << 20).write(to: URL(fileURLWithPath: dir + "/big"))
        let port = 20_000 + Int.random(in: 0..<20_000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, String(port)]
        server.standardOutput = FileHandle.nullDevice; server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        let client = HTTPClient(timeout: 10, maxResponseBytes: 1 << 20)
        var answer: HTTPClient.Response?
        for _ in 0..<100 where answer == nil {
            answer = try? client.send(.get, "http://127.0.0.1:\(port)/big")
            if answer == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        let r = try XCTUnwrap(answer)
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.truncated)
        XCTAssertEqual(r.body.count, 1 << 20)
        XCTAssertThrowsError(try client.send(.get, "file:///etc/passwd"), "only http and https")
    }

    func testABodyReaderKeepsFewFilesOpen() throws {
        let dir = DataDirectory(makeTempDirectory("plumb-bodies"))
        defer { try? FileManager.default.removeItem(atPath: dir.path) }
        var gen = TestSpans(seed: 12)
        let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 100))
        for k in 0..<30 {
            try store.appendWaiting((0..<4).map { i in var s = gen.span(index: k * 4 + i); s.requestBody = "b\(k)"; return s })
            try store.sync()
        }
        try store.close()
        let reader = try StoreReader(directory: dir)
        var refs: [BodyRef] = []
        for (_, seg) in try reader.openSegments() {
            refs += try SpanColumns.spans(from: seg.allColumns()).bodyRefs.compactMap { $0 }
        }
        XCTAssertEqual(Set(refs.map(\.file)).count, 30, "a body file per publish")
        func openFiles() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0 }
        let before = openFiles()
        let bodies = BodyReader(directory: dir)
        for ref in refs { XCTAssertNotNil(bodies.read(ref).0) }
        XCTAssertLessThanOrEqual(openFiles() - before, 8, "at most 8 body files held open")
    }
}
