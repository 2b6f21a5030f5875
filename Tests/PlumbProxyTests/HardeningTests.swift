import Foundation
import NIOHTTP1
import XCTest
@testable import PlumbCore
@testable import PlumbProxy

/// The proxy's defences against hostile input, part by part (the attack suite in Tests/sdk
/// drives the same against the real binary).
final class HardeningTests: XCTestCase {
    let registry = try! ProviderRegistry(overrides: [:], defaultProvider: "openai")

    func testDotSegmentsHoweverSpelledAreRefused() {
        for path in ["/openai/../x", "/v1/../../x", "/openai/%2e%2e/x", "/openai/.%2E/x", "/openai/%2E%2E/x", "/openai/..;/x",
                     "/openai/..\\x", "/openai/a/%2f../x", "/openai/a%5c..%5cx", "/openai/./x", "/openai/..", "/v1/%2e",
                     "/openai/v1/..#", "/openai/..%09/x", "/openai/%c0%ae%c0%ae/x", "/openai/a%00b", "/openai/a%0d%0ab"] {
            XCTAssertEqual(Route(path: path, registry: registry), .invalidPath, path)
        }
        for path in ["/openai/v1/chat/completions", "/openai/v1/...x", "/openai/a..b/c", "/openai/.well-known/x",
                     "/openai/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.anthropic.claude/converse",
                     "/openai/%252e%252e/x"] {
            XCTAssertNotEqual(Route(path: path, registry: registry), .invalidPath, path)
        }
    }

    func testModelNamesAreKeptToABound() {
        XCTAssertEqual(SpanDraft.bounded(String(repeating: "m", count: 5000)).utf8.count, SpanDraft.maxModelBytes)
        XCTAssertEqual(SpanDraft.bounded("gpt-4o"), "gpt-4o")
        XCTAssertEqual("aé".prefix(utf8Bytes: 2), "a", "never half a character")
    }

    func testTheOpenFileLimitIsRaisedAndLeavesRoomForConnections() {
        let files = FileLimit.raise()
        XCTAssertGreaterThanOrEqual(files, 1024)
        XCTAssertEqual(FileLimit.connections(forLimit: 1024), 384)
        XCTAssertEqual(FileLimit.connections(forLimit: 100), 16)
    }

    func testLoopbackIsDecidedByTheAddressNotItsSpelling() throws {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "localhost"] {
            XCTAssertTrue(try ListenAddress(host.contains(":") ? "[\(host)]:1" : "\(host):1").isLoopback, host)
        }
        for host in ["127.corp.example", "0.0.0.0", "10.0.0.1", "::", "127.0.0.1.nip.io", "localhost.example"] {
            XCTAssertFalse(try ListenAddress(host.contains(":") && !host.contains(".") ? "[\(host)]:1" : "\(host):1").isLoopback, host)
        }
        XCTAssertTrue(try ListenAddress("0.0.0.0:1").isWildcard)
    }

    func testNotLoopbackNeedsAnAdminTokenAndKeysMustNotBeEmpty() throws {
        func settings(_ toml: String) throws -> ProxySettings {
            try ProxySettings(config: PlumbConfig(toml: toml, path: "t.toml", environment: [:]), listen: nil, prices: PriceCatalog())
        }
        XCTAssertThrowsError(try settings(#"listen = "127.corp.example:8787""#)) { XCTAssertTrue("\($0)".contains("admin_token")) }
        XCTAssertThrowsError(try settings("client_keys = [\"ok\", \"\"]")) { XCTAssertTrue("\($0)".contains("key 2 is empty"), "\($0)") }
        XCTAssertThrowsError(try ProxySettings(config: PlumbConfig(toml: nil, path: "t", environment: ["PLUMB_CLIENT_KEYS": "a,,b"]),
                                               listen: nil, prices: PriceCatalog()))
        XCTAssertThrowsError(try settings(#"header_timeout = "0""#)) { XCTAssertTrue("\($0)".contains("header_timeout")) }
        let s = try settings("""
            header_timeout = "2s"
            idle_timeout = "3s"
            body_timeout = "4s"
            max_connections = 7
            admin_hosts = ["Plumb.Internal"]
            query_timeout = "5s"
            query_max_result_bytes = 1000
            rejected_spans_per_second = 9
            """)
        XCTAssertEqual([s.headerTimeout, s.idleTimeout, s.bodyTimeout, s.queryTimeout], [2, 3, 4, 5])
        XCTAssertEqual([s.maxConnections, s.queryMaxResultBytes, s.rejectedSpansPerSecond], [7, 1000, 9])
        XCTAssertEqual(s.adminHosts, ["plumb.internal"])
    }

    func testBaseURLWithLineBreaksOrSpacesIsRefusedAtLoad() {
        for url in ["http://127.0.0.1:1/a\r\nX-Evil: 1", "http://h/a b", "http://h/\u{0}", "http://h/a?x=1", "http://h/é"] {
            XCTAssertThrowsError(try ProviderRegistry(overrides: ["x": .object(["base_url": .string(url)])]), url.debugDescription) {
                XCTAssertTrue("\($0)".contains("providers.x.base_url"), "\($0)")
            }
        }
    }

    func testOnlyTheBuiltInOllamaIsLocalOnly() throws {
        XCTAssertTrue(registry["ollama"]!.localOnly)
        XCTAssertFalse(registry["openai"]!.localOnly)
        let configured = try ProviderRegistry(overrides: ["ollama": .object([:])])
        XCTAssertFalse(configured["ollama"]!.localOnly, "naming it in the config opens it")
    }

    func testAdminAnswersOnlyToItsOwnNames() throws {
        var s = ProxySettings(listen: try ListenAddress("127.0.0.1:8787"), registry: registry)
        s.adminHosts = ["plumb.internal"]
        for host in ["127.0.0.1:8787", "localhost:8787", "LOCALHOST", "[::1]:8787", "127.0.0.2", "plumb.internal:80"] {
            XCTAssertNil(AdminEndpoints.refusal(settings: s, host: host, authorization: nil), host)
        }
        for host in ["evil.example:8787", "127.0.0.1.evil.example", "", "[::1", "plumb.internal.evil", "10.1.2.3"] {
            XCTAssertEqual(AdminEndpoints.refusal(settings: s, host: host, authorization: nil)?.errorType, "forbidden_host", host)
        }
        XCTAssertEqual(AdminEndpoints.refusal(settings: s, host: nil, authorization: nil)?.errorType, "forbidden_host")
        var open = ProxySettings(listen: try ListenAddress("0.0.0.0:8787"), registry: registry, adminToken: "t")
        open.adminHosts = []
        XCTAssertEqual(AdminEndpoints.refusal(settings: open, host: "10.1.2.3", authorization: nil)?.errorType, "unauthorized")
        XCTAssertNil(AdminEndpoints.refusal(settings: open, host: "10.1.2.3", authorization: "Bearer t"))
        let one = ProxySettings(listen: try ListenAddress("10.1.2.3:8787"), registry: registry, adminToken: "t")
        XCTAssertNil(AdminEndpoints.refusal(settings: one, host: "10.1.2.3:8787", authorization: "Bearer t"))
        XCTAssertEqual(AdminEndpoints.refusal(settings: one, host: "10.9.9.9", authorization: "Bearer t")?.errorType, "forbidden_host")
        XCTAssertEqual(AdminEndpoints.refusal(settings: one, host: "localhost", authorization: "Bearer t")?.errorType, "forbidden_host")
    }

    func testQueriesOnlyByPostWithAJSONOrSQLBody() {
        let q = QueryEndpoint(directory: .init("/nonexistent"))
        XCTAssertEqual(q.refusal(method: .GET, contentType: "application/sql")?.status, .methodNotAllowed)
        for t in [nil, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            XCTAssertEqual(q.refusal(method: .POST, contentType: t)?.status, .unsupportedMediaType, t ?? "none")
        }
        for t in ["application/sql", "application/json; charset=utf-8", "Application/JSON"] {
            XCTAssertNil(q.refusal(method: .POST, contentType: t), t)
        }
    }

    func testMetricsLabelsAreBoundedInLengthAndNumber() {
        let m = ProxyMetrics(maxSeries: 10)
        for k in 0..<500 {
            m.record(Span(spanID: "x", tsStart: 0, tsEnd: 0, provider: "openai", model: "model-\(k)-" + String(repeating: "é", count: 3000)))
            m.record(Span(spanID: "x", tsStart: 0, tsEnd: 0, provider: String(repeating: "p", count: 4000) + "\(k)"), routed: false)
        }
        let page = m.exposition(store: StoreCountersView())
        XCTAssertLessThan(page.utf8.count, 100_000)
        XCTAssertTrue(page.contains(#"model="other""#))
        XCTAssertTrue(page.contains(#"provider="unknown""#))
        XCTAssertFalse(page.contains("pppp"))
        XCTAssertEqual(ProxyMetrics.label(String(repeating: "é", count: 100)).utf8.count, 100 + 3, "cut on a character, then …")
    }

    func testRecentSpansAreBoundedByBytes() {
        let r = RecentSpans(capacity: 4096, byteBudget: 1 << 20)
        let body = String(repeating: "x", count: 100_000)
        for k in 0..<100 {
            var s = Span(spanID: String(format: "%032x", k), tsStart: 0, tsEnd: 0)
            s.requestBody = body
            r.add(s)
        }
        XCTAssertLessThanOrEqual(r.held.bytes, 1 << 20)
        XCTAssertEqual(r.held.spans, 10)
        XCTAssertNotNil(r.find(String(format: "%032x", 99)))
        XCTAssertNil(r.find(String(format: "%032x", 0)))
        var huge = Span(spanID: "h", tsStart: 0, tsEnd: 0)
        huge.responseBody = String(repeating: "y", count: 2 << 20)
        r.add(huge)
        XCTAssertNil(r.find("h"), "a span over the whole budget is not kept")
    }

    func testAnAllowanceNeverGoesPastItsLimit() {
        let queries = Allowance(limit: ProxyCore.maxQueries)
        XCTAssertEqual((0..<20).filter { _ in queries.take() }.count, 8, "the ninth query is refused")
        queries.give()
        XCTAssertTrue(queries.take(), "a finished one frees its slot")
        let bytes = Allowance(limit: 100)
        XCTAssertTrue(bytes.take(60))
        XCTAssertFalse(bytes.take(41), "nothing taken past the budget")
        XCTAssertTrue(bytes.take(40))
        bytes.give(100)
        XCTAssertTrue(bytes.take(100))
    }

    func testRefusalsAreRecordedAtABoundedRate() {
        let r = RefusalRecorder(perSecond: 20)
        let admitted = (0..<1000).filter { _ in r.admit() }.count
        XCTAssertGreaterThanOrEqual(admitted, 20)
        XCTAssertLessThan(admitted, 25)
    }

    func testAttributionHeadersAreBounded() {
        XCTAssertNil(CallerHeaders(HTTPHeaders([("Plumb-User-Id", "u"), ("Plumb-Property-Team", "t")])).oversized)
        XCTAssertNotNil(CallerHeaders(HTTPHeaders([("Plumb-User-Id", String(repeating: "u", count: 257))])).oversized)
        XCTAssertNotNil(CallerHeaders(HTTPHeaders([("Helicone-Session-Id", String(repeating: "s", count: 257))])).oversized)
        XCTAssertNotNil(CallerHeaders(HTTPHeaders((0..<65).map { ("Plumb-Property-P\($0)", "v") })).oversized)
        XCTAssertNotNil(CallerHeaders(HTTPHeaders([("Plumb-Property-" + String(repeating: "n", count: 65), "v")])).oversized)
        XCTAssertNotNil(CallerHeaders(HTTPHeaders([("Plumb-Property-Team", String(repeating: "v", count: 1025))])).oversized)
    }

    func testPlumbHeadersWinOverTheirHeliconeAliases() {
        for order in [[("Helicone-User-Id", "h"), ("Plumb-User-Id", "p")], [("Plumb-User-Id", "p"), ("Helicone-User-Id", "h")]] {
            let c = CallerHeaders(HTTPHeaders(order + [("Helicone-Property-Team", "h"), ("Plumb-Property-Team", "p"), ("Helicone-Session-Id", "s")]))
            XCTAssertEqual(c.userID, "p")
            XCTAssertEqual(c.properties["team"], "p")
            XCTAssertEqual(c.sessionID, "s", "an alias alone still counts")
        }
    }

    func testUsageIsAskedForWithoutParsingTheWholeBody() {
        let messages = "[" + Array(repeating: "0", count: 100_000).joined(separator: ",") + "]"
        let body = #"{"model":"m","stream":true,"stream_options":{"x":1},"messages":"# + messages + "}"
        let out = RequestInspection.askingForUsage(Array(body.utf8), hasOptions: true)
        let parsed = try? JSONParser.parse(out)
        XCTAssertEqual(parsed?["stream_options"]?["include_usage"]?.boolValue, true)
        XCTAssertEqual(parsed?["stream_options"]?["x"], .int(1))
        XCTAssertTrue(String(decoding: out, as: UTF8.self).hasSuffix(messages + "}"), "the rest is the caller's bytes")
        let null = RequestInspection.askingForUsage(Array(#"{"stream":true, "stream_options" : null }"#.utf8), hasOptions: true)
        XCTAssertEqual(String(decoding: null, as: UTF8.self), #"{"stream":true, "stream_options" : {"include_usage":true} }"#)
    }

    func testInstallationSecretIsNeverSilentlyReplaced() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-secret-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim"
        try "keep".write(toFile: victim, atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink(victim, dir + "/installation.secret.tmp"), 0)
        let first = try KeyFingerprint(dataDirectory: dir)
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "keep", "a planted link is removed, not followed")
        XCTAssertEqual(try KeyFingerprint(dataDirectory: dir).secret, first.secret)
        var st = stat()
        XCTAssertEqual(stat(dir + "/installation.secret", &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        try "not hex".write(toFile: dir + "/installation.secret", atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try KeyFingerprint(dataDirectory: dir)) { XCTAssertTrue("\($0)".contains("not a valid secret")) }
        try FileManager.default.removeItem(atPath: dir + "/installation.secret")
        try FileManager.default.createDirectory(atPath: dir + "/installation.secret", withIntermediateDirectories: false)
        XCTAssertThrowsError(try KeyFingerprint(dataDirectory: dir))
    }
}
