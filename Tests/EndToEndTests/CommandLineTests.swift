import XCTest
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport

final class CommandLineTests: XCTestCase {
    var tmp = ""
    override func setUp() { tmp = makeTempDirectory("plumb-cli") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: tmp) }

    func testImportReportsBadLinesByNumberAndKeepsTheGoodOnes() throws {
        let good = try writeSpanFile(tmp + "/good.jsonl", count: 50, seed: 41, bodies: true)
        var lines = try String(contentsOfFile: tmp + "/good.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        lines.insert("{\"span_id\": \"nothex\", \"ts_start\": 1, \"provider\": \"x\", \"status\": 200}", at: 3)
        lines.insert("{not json", at: 10)
        lines.insert("", at: 20)
        lines.insert("{\"span_id\":\"0123456789abcdef0123456789abcdef\",\"ts_start\":1,\"provider\":\"x\",\"status\":200,\"colour\":1}", at: 30)
        try (lines.joined(separator: "\r\n")).write(toFile: tmp + "/mixed.jsonl", atomically: false, encoding: .utf8)
        let r = try PlumbProcess.run(["import", "--data", tmp + "/d", tmp + "/mixed.jsonl"])
        XCTAssertEqual(r.status, 1, "bad lines make the exit status 1")
        XCTAssertTrue(r.stderr.contains("mixed.jsonl:4: column 'span_id': expected 32 hex digits, got 'nothex'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("mixed.jsonl:11: invalid JSON: expected a string key at column 2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("mixed.jsonl:31: column 'colour': unknown column"), r.stderr)
        XCTAssertTrue(r.stdout.contains("imported 50 spans from 54 lines (3 skipped)"), r.stdout)
        let stored = try StoreReader(directory: DataDirectory(tmp + "/d")).spans(includeBodies: true)
        XCTAssertEqual(stored.count, good.count)
        let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.spanID, $0) })
        for s in good { XCTAssertTrue(byID[s.spanID].map { sameSpan($0, s) } ?? false) }
    }

    /// One decoding thread or several: the same errors in the same order, the same spans stored.
    func testImportThreadsChangeNothingButSpeed() throws {
        _ = try writeSpanFile(tmp + "/good.jsonl", count: 3_000, seed: 43, bodies: true)
        var lines = try String(contentsOfFile: tmp + "/good.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        for k in stride(from: 7, to: lines.count, by: 211) { lines[k] = "{\"span_id\": \"bad-\(k)\", \"ts_start\": 1, \"provider\": \"x\", \"status\": 200}" }
        try lines.joined(separator: "\n").write(toFile: tmp + "/mixed.jsonl", atomically: false, encoding: .utf8)
        var outputs: [String] = []
        for threads in ["1", "4"] {
            let r = try PlumbProcess.run(["import", "--threads", threads, "--data", tmp + "/d" + threads, tmp + "/mixed.jsonl"])
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains("mixed.jsonl:8: column 'span_id': expected 32 hex digits, got 'bad-7'"), r.stderr)
            outputs.append(r.stderr)
            let q = try PlumbProcess.run(["query", "--data", tmp + "/d" + threads, "--format", "jsonl",
                                          "SELECT * FROM spans ORDER BY span_id"])
            XCTAssertEqual(q.status, 0, q.stderr)
            outputs.append(q.stdout)
        }
        XCTAssertEqual(outputs[0], outputs[2], "the errors, in the same order")
        XCTAssertEqual(outputs[1], outputs[3], "the spans")
        XCTAssertEqual(outputs[1].split(separator: "\n").count, 3_000 - 15)
        let refused = try PlumbProcess.run(["import", "--threads", "0", "--data", tmp + "/d0", tmp + "/mixed.jsonl"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("--threads must be between 1 and 256"), refused.stderr)
    }

    func testImportDrawsAProgressBarOnlyOnATerminal() throws {
        _ = try writeSpanFile(tmp + "/many.jsonl", count: 30_000, seed: 44)
        // `script` runs the import under a pseudo-terminal, as a person at a shell would.
        let tty = try PlumbProcess.run(executable: "/usr/bin/script",
                                       ["-qec", "\(PlumbProcess.binary) import --data \(tmp)/tty-data \(tmp)/many.jsonl", "/dev/null"])
        let screen = tty.stdout
        XCTAssertEqual(tty.status, 0, screen)
        XCTAssertTrue(screen.contains("importing █"), "no progress bar on a terminal: \(screen.prefix(300))")
        XCTAssertTrue(screen.contains("100%"), screen.suffix(300).description)
        XCTAssertTrue(screen.contains("imported 30,000 spans"), screen.suffix(300).description)
        // Piped (not a terminal): no bar, just the summary.
        let piped = try PlumbProcess.run(["import", "--data", tmp + "/pipe-data", tmp + "/many.jsonl"])
        XCTAssertFalse(piped.stderr.contains("█"), piped.stderr)
        XCTAssertTrue(piped.stdout.hasPrefix("imported 30,000 spans"), piped.stdout)
    }

    func testImportReadsStandardInput() throws {
        let spans = try writeSpanFile(tmp + "/in.jsonl", count: 5_000, seed: 45)
        try "{broken\n".write(toFile: tmp + "/bad.jsonl", atomically: false, encoding: .utf8)
        let r = try PlumbProcess.run(executable: "/bin/bash",
            ["-c", "cat \"$1\" \"$2\" | \"$0\" import --data \"$3\" -", PlumbProcess.binary, tmp + "/in.jsonl", tmp + "/bad.jsonl", tmp + "/d"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("<stdin>:5001: invalid JSON"), r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("imported 5,000 spans from 5,001 lines (1 skipped)"), r.stdout)
        XCTAssertEqual(try StoreReader(directory: DataDirectory(tmp + "/d")).spans().count, spans.count)
    }

    func testVerifyNamesTheDamagedSegment() throws {
        for k in 0..<3 {
            _ = try writeSpanFile(tmp + "/p\(k).jsonl", count: 200, seed: 50 + UInt64(k))
            XCTAssertEqual(try PlumbProcess.run(["import", "--data", tmp + "/d", tmp + "/p\(k).jsonl"]).status, 0)
        }
        let ok = try PlumbProcess.run(["verify", "--data", tmp + "/d"])
        XCTAssertEqual(ok.status, 0)
        XCTAssertTrue(ok.stdout.contains("ok: 3 segments (600 spans"), ok.stdout)
        let head = ok.stdout.split(separator: "\n").first { $0.hasPrefix("chain head: ") }.map { String($0.dropFirst(12)) }
        XCTAssertNotNil(head)
        XCTAssertEqual(try PlumbProcess.run(["verify", "--data", tmp + "/d", "--expect-head", head ?? ""]).status, 0)
        // Cutting the newest row keeps the rest of the chain consistent; only the recorded head shows it.
        let db = try SQLiteDatabase(path: tmp + "/d/catalog.sqlite")
        try db.run("DELETE FROM segments WHERE id = (SELECT max(id) FROM segments)")
        let cut = try PlumbProcess.run(["verify", "--data", tmp + "/d", "--expect-head", head ?? ""])
        XCTAssertEqual(cut.status, 1)
        XCTAssertTrue(cut.stdout.contains("catalog rows were removed"), cut.stdout)
        try db.run("DELETE FROM segments")   // put the directory back for the rest of the test
        for k in 0..<3 { XCTAssertEqual(try PlumbProcess.run(["import", "--data", tmp + "/d", tmp + "/p\(k).jsonl"]).status, 0) }
        let segs = FileSystem.list(tmp + "/d/segments")
        XCTAssertEqual(segs.count, 3)
        let victim = tmp + "/d/segments/" + segs[2]
        var bytes = try FileSystem.readAll(victim)
        bytes[40] ^= 0xFF
        try FileSystem.writeAtomically(victim, bytes)
        let bad = try PlumbProcess.run(["verify", "--data", tmp + "/d"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stdout.contains("FAIL \(segs[2]):"), bad.stdout)
        XCTAssertFalse(bad.stdout.contains("FAIL \(segs[0])"), bad.stdout)
    }

    func testClearErrors() throws {
        let missing = try PlumbProcess.run(["verify", "--data", tmp + "/nothing"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "plumb: error: no Plumb data directory at \(tmp)/nothing (catalog.sqlite not found)\n")
        let noFile = try PlumbProcess.run(["import", "--data", tmp + "/d", tmp + "/absent.jsonl"])
        XCTAssertEqual(noFile.status, 1)
        XCTAssertTrue(noFile.stderr.hasPrefix("plumb: error: cannot read"), noFile.stderr)
        let digest = try PlumbProcess.run(["digest", "--data", tmp + "/nothing"])
        XCTAssertEqual(digest.status, 1)
        XCTAssertEqual(digest.stderr, "plumb: error: no Plumb data directory at \(tmp)/nothing (catalog.sqlite not found)\n")
        let demo = try PlumbProcess.run(["demo"])
        XCTAssertEqual(demo.status, 1)
        XCTAssertTrue(demo.stderr.contains("needs a terminal; use --no-dash"), demo.stderr)
        let dash = try PlumbProcess.run(["dash", "--data", tmp + "/d"])
        XCTAssertEqual(dash.status, 1)
        XCTAssertTrue(dash.stderr.contains("needs a terminal; use --once"), dash.stderr)
        for cmd in [["query", "SELECT 1 FROM spans"], ["incidents"], ["tail"]] {
            let r = try PlumbProcess.run(cmd + ["--data", tmp + "/nothing"])
            XCTAssertEqual(r.status, 1, cmd[0])
            XCTAssertEqual(r.stderr, "plumb: error: no Plumb data directory at \(tmp)/nothing (catalog.sqlite not found)\n", cmd[0])
        }
        // plumb serve refuses bad settings with one line, before binding anything.
        let badListen = try PlumbProcess.run(["serve", "--data", tmp + "/s", "--listen", "8787"])
        XCTAssertEqual(badListen.status, 1)
        XCTAssertEqual(badListen.stderr, "plumb: error: listen address '8787': expected HOST:PORT, e.g. 127.0.0.1:8787\n")
        try "[providers.local]\napi = \"openai\"\n".write(toFile: tmp + "/noprov.toml", atomically: false, encoding: .utf8)
        let noURL = try PlumbProcess.run(["serve", "--config", tmp + "/noprov.toml", "--data", tmp + "/s"])
        XCTAssertEqual(noURL.status, 1)
        XCTAssertTrue(noURL.stderr.contains("providers.local: base_url is required"), noURL.stderr)
        try "retension = \"7d\"\n".write(toFile: tmp + "/bad.toml", atomically: false, encoding: .utf8)
        let badConfig = try PlumbProcess.run(["verify", "--config", tmp + "/bad.toml", "--data", tmp])
        XCTAssertEqual(badConfig.status, 1)
        XCTAssertTrue(badConfig.stderr.contains("unknown key 'retension'"), badConfig.stderr)
    }

    func testDataDirectoryFromEnvironmentAndConfig() throws {
        _ = try writeSpanFile(tmp + "/a.jsonl", count: 10, seed: 60)
        try "data = \"\(tmp)/from-config\"\n".write(toFile: tmp + "/plumb.toml", atomically: false, encoding: .utf8)
        XCTAssertEqual(try PlumbProcess.run(["import", "--config", tmp + "/plumb.toml", tmp + "/a.jsonl"]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/from-config/catalog.sqlite"))
        XCTAssertEqual(try PlumbProcess.run(["import", "--config", tmp + "/plumb.toml", tmp + "/a.jsonl"],
                                            environment: ["PLUMB_DATA": tmp + "/from-env"]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/from-env/catalog.sqlite"))
    }
}
