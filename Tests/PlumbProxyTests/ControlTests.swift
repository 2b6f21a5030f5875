import Foundation
import NIOCore
import NIOEmbedded
import XCTest
@testable import PlumbCore
@testable import PlumbProxy
@testable import PlumbStore

/// Budgets, rate limits and their parts, with time given rather than read (the end-to-end
/// tests in Tests/sdk/test_control.py drive the real binary with real clients).
final class ControlTests: XCTestCase {
    let utc = TimeZone(identifier: "UTC")!
    /// 2026-12-07T10:00:00Z
    let t0: Int64 = 1_797_069_600_000_000

    func testMoneyIsExactNanodollars() {
        XCTAssertEqual(Money.nanos(parsing: "200"), 200_000_000_000)
        XCTAssertEqual(Money.nanos(parsing: "0.000000001"), 1)
        XCTAssertEqual(Money.nanos(parsing: "12.50"), 12_500_000_000)
        for bad in ["", "-1", "1.", ".5", "1.0000000001", "1e3", "abc", "1,5", "9999999999"] { XCTAssertNil(Money.nanos(parsing: bad), bad) }
        XCTAssertEqual(Money.format(12_500_000_000), "12.50")
        XCTAssertEqual(Money.format(1), "0.000000001")
        XCTAssertEqual(Money.nanos(0.0000025), 2_500)
        XCTAssertEqual(Money.nanos(nil), 0)
        XCTAssertEqual(Money.nanos(-1), 0)
        // Ten million calls of 0.1 cent add up to exactly 10,000 dollars.
        var sum: Int64 = 0
        for _ in 0..<10_000_000 { sum += Money.nanos(0.001) }
        XCTAssertEqual(sum, 10_000 * Money.perDollar)
    }

    func testBudgetAndLimitTextsParseOrSayWhy() throws {
        XCTAssertEqual(try BudgetSpec.parse("200/month"), BudgetSpec(amountNanos: 200 * Money.perDollar, period: .month))
        XCTAssertEqual(try BudgetSpec.parse("$0.5/24h").period, .rolling(86_400_000_000))
        XCTAssertEqual(try BudgetSpec.parse("10/week").description, "10.00/week")
        for bad in ["200", "0/day", "x/day", "5/fortnight", "5/30s", "5/400d", "5/day/x"] {
            XCTAssertThrowsError(try BudgetSpec.parse(bad), bad) { XCTAssertTrue("\($0)".contains("'"), "\($0)") }
        }
        XCTAssertEqual(try LimitSpec.parse("600rpm"), LimitSpec(requestsPerMinute: 600))
        XCTAssertEqual(try LimitSpec.parse("600rpm, 100000TPM"), LimitSpec(requestsPerMinute: 600, tokensPerMinute: 100_000))
        for bad in ["", "600", "0rpm", "-5rpm", "600rps", "99999999999rpm", ","] { XCTAssertThrowsError(try LimitSpec.parse(bad), bad) }
    }

    func testCalendarPeriodsFollowTheTimeZone() throws {
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        // 2026-11-30T23:30:00Z is already December 1st in Berlin.
        let now = try Timestamp.parse("2026-11-30T23:30:00Z")
        let m = BudgetPeriod.month.window(at: now, in: berlin)
        XCTAssertEqual(Timestamp.format(m.start), "2026-11-30T23:00:00.000000Z")
        XCTAssertEqual(Timestamp.format(m.end), "2026-12-31T23:00:00.000000Z")
        let w = BudgetPeriod.week.window(at: try Timestamp.parse("2026-12-06T12:00:00Z"), in: utc)   // a Sunday
        XCTAssertEqual(Timestamp.format(w.start), "2026-11-30T00:00:00.000000Z")                      // its Monday
        XCTAssertEqual(w.end - w.start, 7 * 86_400_000_000)
        let d = BudgetPeriod.day.window(at: now, in: utc)
        XCTAssertEqual(Timestamp.format(d.start), "2026-11-30T00:00:00.000000Z")
    }

    func testACalendarBudgetReopensWhenItsPeriodRollsOver() throws {
        let now = try Timestamp.parse("2026-12-31T23:59:30Z")
        let l = BudgetLedger(name: "b", scope: .all, spec: try BudgetSpec.parse("1/month"), zone: utc, now: now)
        l.spend(Money.perDollar, at: now - 1_000_000, now: now)
        XCTAssertTrue(l.isExhausted(now: now))
        XCTAssertEqual(l.secondsUntilOpen(now: now), 30)
        // A span that started in December and is recorded in January does not count in January.
        let jan = now + 31_000_000
        l.spend(5 * Money.perDollar, at: now, now: jan)
        XCTAssertFalse(l.isExhausted(now: jan))
        XCTAssertEqual(l.spent(now: jan), 0)
    }

    func testARollingBudgetLetsOldSpendFallOut() throws {
        let l = BudgetLedger(name: "b", scope: .all, spec: try BudgetSpec.parse("1/1h"), zone: utc, now: t0)
        l.spend(600_000_000, at: t0, now: t0)                       // 0.60 at 10:00
        l.spend(500_000_000, at: t0 + 1_800_000_000, now: t0 + 1_800_000_000)   // 0.50 at 10:30
        let t = t0 + 1_800_000_000
        XCTAssertTrue(l.isExhausted(now: t))
        // The 0.60 leaves at 11:00 (at most one bucket, 2.5 s of an hour, early): then 0.50 < 1.
        let wait = l.secondsUntilOpen(now: t)
        XCTAssertTrue((1797...1800).contains(wait), "\(wait)")
        XCTAssertFalse(l.isExhausted(now: t + wait * 1_000_000))
        XCTAssertEqual(l.spent(now: t + wait * 1_000_000), 500_000_000)
        XCTAssertEqual(l.spent(now: t0 + 3 * 3_600_000_000), 0)
    }

    func testAMinuteWindowCountsTheLastSixtySeconds() {
        var w = MinuteWindow()
        for s in Int64(100)..<Int64(110) { w.add(10, atSecond: s) }
        XCTAssertEqual(w.total(atSecond: 110), 100)
        XCTAssertEqual(w.total(atSecond: 159), 100)
        XCTAssertEqual(w.total(atSecond: 160), 90)
        XCTAssertEqual(w.secondsUntilBelow(100, atSecond: 120), 40)   // second 100's leave at 160
        XCTAssertEqual(w.secondsUntilBelow(75, atSecond: 120), 42)    // and 101's and 102's by 162
        XCTAssertEqual(w.secondsUntilEmpty(atSecond: 120), 49)
        XCTAssertEqual(w.total(atSecond: 170), 0)
        // A bucket reused a minute later starts again from 0.
        w.add(1, atSecond: 160)
        XCTAssertEqual(w.total(atSecond: 160), 91)
    }

    func testAPlanAdmitsUpToItsLimitAndSaysWhen() throws {
        var settings = ControlSettings()
        settings.limits = [.init(name: "l", scope: .user("u1"), spec: LimitSpec(requestsPerMinute: 3, tokensPerMinute: 1000))]
        let plane = ControlPlane(settings: settings, now: t0)
        let u1 = CallIdentity(userID: "u1", provider: "openai"), u2 = CallIdentity(userID: "u2", provider: "openai")
        for i in 0..<3 {
            guard case .admitted(let t?) = plane.admit(u1, key: nil, estimate: 0, now: t0 + Int64(i) * 1_000_000) else { return XCTFail("call \(i)") }
            XCTAssertEqual(t.headers.first { $0.0 == "x-ratelimit-remaining-requests" }?.1, String(2 - i))
        }
        guard case .refused(let f, let headers) = plane.admit(u1, key: nil, estimate: 0, now: t0 + 3_000_000) else { return XCTFail() }
        XCTAssertEqual(f.status, .tooManyRequests)
        XCTAssertEqual(f.errorType, "rate_limited")
        XCTAssertEqual(headers.first { $0.0 == "Retry-After" }?.1, "57")
        XCTAssertTrue(f.message.contains("3 requests per minute"), f.message)
        XCTAssertEqual(headers.first { $0.0 == "x-ratelimit-reset-requests" }?.1, "59s")
        XCTAssertEqual([0, 59, 60, 61, 3600].map(ControlPlane.goDuration), ["0s", "59s", "1m0s", "1m1s", "60m0s"])
        // Another user is not limited; the first is again a minute after its first call.
        guard case .admitted(nil) = plane.admit(u2, key: nil, estimate: 0, now: t0 + 3_000_000) else { return XCTFail() }
        guard case .admitted = plane.admit(u1, key: nil, estimate: 0, now: t0 + 60_000_000) else { return XCTFail() }
    }

    func testTokensPerMinuteCountWhatCallsUsed() throws {
        var settings = ControlSettings()
        settings.limits = [.init(name: "t", scope: .all, spec: LimitSpec(tokensPerMinute: 100))]
        let plane = ControlPlane(settings: settings, now: t0)
        let id = CallIdentity(provider: "openai")
        var span = Span(spanID: "a", tsStart: t0, tsEnd: t0)
        span.inputTokens = 60; span.outputTokens = 40
        guard case .admitted(let t?) = plane.admit(id, key: nil, estimate: 0, now: t0) else { return XCTFail() }
        plane.settle(t, span: span, now: t0)
        guard case .refused(let f, _) = plane.admit(id, key: nil, estimate: 0, now: t0 + 1_000_000) else { return XCTFail() }
        XCTAssertTrue(f.message.contains("100 tokens per minute"), f.message)
    }

    /// The documented bound: with estimates at least the real cost, the spend ends below the
    /// amount plus the largest estimate, whatever the order in which calls start and end.
    func testConcurrentCallsOvershootABudgetByLessThanOneCall() throws {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<200 {
            var settings = ControlSettings()
            let amount = Int64.random(in: 1_000...1_000_000, using: &rng)
            settings.budgets = [.init(name: "b", scope: .all, spec: BudgetSpec(amountNanos: amount, period: .month), zone: utc)]
            let plane = ControlPlane(settings: settings, now: t0)
            var open: [(ControlPlane.Ticket, Int64)] = []
            var spent: Int64 = 0, maxEstimate: Int64 = 0, refused = 0
            for _ in 0..<300 {
                if !open.isEmpty && Bool.random(using: &rng) {
                    let (t, cost) = open.remove(at: Int.random(in: 0..<open.count, using: &rng))
                    var span = Span(spanID: "s", tsStart: t0, tsEnd: t0)
                    span.costUSD = Double(cost) / 1e9
                    plane.settle(t, span: span, now: t0)
                    spent += cost
                } else {
                    let estimate = Int64.random(in: 1...amount / 3, using: &rng)
                    switch plane.admit(CallIdentity(provider: "openai"), key: nil, estimate: estimate, now: t0) {
                    case .admitted(let t?): open.append((t, Int64.random(in: 0...estimate, using: &rng))); maxEstimate = max(maxEstimate, estimate)
                    case .refused(let f, _): XCTAssertEqual(f.errorType, "budget_exceeded"); refused += 1
                    default: XCTFail()
                    }
                }
            }
            for (t, cost) in open {
                var span = Span(spanID: "s", tsStart: t0, tsEnd: t0)
                span.costUSD = Double(cost) / 1e9
                plane.settle(t, span: span, now: t0)
                spent += cost
            }
            XCTAssertLessThan(spent, amount + maxEstimate, "round \(round)")
            XCTAssertEqual(plane.spendSnapshot(now: t0).first?.spent, spent)
            XCTAssertEqual(plane.spendSnapshot(now: t0).first?.inFlight, 0)
        }
    }

    func testScopesMatchTheirCallsOnly() throws {
        let id = CallIdentity(keyName: "k", apiKeyHash: "ab", userID: "u", properties: ["team": "search"], provider: "openai", model: "gpt-4o-mini")
        let yes: [PolicyScope] = [.all, .key("k"), .apiKeyHash("ab"), .user("u"), .property(name: "team", value: "search"), .provider("openai"),
                                  .model("gpt-4o*"), .model("*mini"), .model("gpt-4o-mini")]
        let no: [PolicyScope] = [.key("x"), .user("v"), .property(name: "team", value: "ads"), .property(name: "env", value: "search"),
                                 .provider("anthropic"), .model("gpt-4o"), .model("claude-*")]
        for s in yes { XCTAssertTrue(s.matches(id), "\(s)") }
        for s in no { XCTAssertFalse(s.matches(id), "\(s)") }
        XCTAssertTrue(Glob.matches("a*b*c", "aXbYc"))
        XCTAssertFalse(Glob.matches("a*b*c", "aXbY"))
        XCTAssertTrue(Glob.matches("*", ""))
    }

    func testTheConfigSaysWhatIsWrong() throws {
        let registry = try ProviderRegistry(overrides: [:], defaultProvider: "openai")
        func settings(_ toml: String, env: [String: String] = [:]) throws -> ControlSettings {
            try ControlSettings(config: PlumbConfig(toml: toml, path: "t.toml", environment: env), registry: registry)
        }
        let ok = try settings("""
            [control]
            require_key = true
            [[budgets]]
            scope = { property = "Team", value = "search" }
            amount_usd = 200
            period = "month"
            time_zone = "Europe/Berlin"
            [[limits]]
            name = "u1"
            scope = { user = "u1" }
            requests_per_minute = 600
            """)
        XCTAssertTrue(ok.requireKey)
        XCTAssertEqual(ok.budgets.first?.scope, .property(name: "team", value: "search"))
        XCTAssertEqual(ok.budgets.first?.spec.amountNanos, 200 * Money.perDollar)
        XCTAssertEqual(ok.limits.first?.spec.requestsPerMinute, 600)
        // A TOML float is its nearest nanodollar when it has one (not "5e-06" as text).
        XCTAssertEqual(try settings("[[budgets]]\nscope = \"all\"\namount_usd = 0.000005\nperiod = \"day\"\n").budgets.first?.spec.amountNanos, 5_000)
        XCTAssertEqual(try settings("[[budgets]]\nscope = \"all\"\namount_usd = 12.5\nperiod = \"day\"\n").budgets.first?.spec.amountNanos, 12_500_000_000)
        let bad: [(String, String)] = [
            ("[[budgets]]\nscope = \"all\"\nperiod = \"day\"\n", "amount_usd is required"),
            ("[[budgets]]\nscope = \"all\"\namount_usd = -5\nperiod = \"day\"\n", "amount_usd must be dollars"),
            ("[[budgets]]\nscope = \"all\"\namount_usd = 5\nperiod = \"fortnight\"\n", "period 'fortnight'"),
            ("[[budgets]]\namount_usd = 5\nperiod = \"day\"\n", "scope is required"),
            ("[[budgets]]\nscope = { team = \"x\" }\namount_usd = 5\nperiod = \"day\"\n", "unknown kind 'team'"),
            ("[[budgets]]\nscope = { property = \"a b\", value = \"x\" }\namount_usd = 5\nperiod = \"day\"\n", "property name"),
            ("[[budgets]]\nscope = { user = \"u\", provider = \"p\" }\namount_usd = 5\nperiod = \"day\"\n", "must name one of"),
            ("[[budgets]]\nscope = \"all\"\namount_usd = 5\nperiod = \"day\"\ntime_zone = \"Mars/Base\"\n", "IANA time zone"),
            ("[[limits]]\nscope = \"all\"\n", "neither requests_per_minute nor tokens_per_minute"),
            ("[[limits]]\nscope = \"all\"\nrequests_per_minute = 0\n", "requests_per_minute must be"),
            ("[[limits]]\nscope = \"all\"\nrpm = 5\n", "unknown key 'rpm'"),
            ("[control]\nrequire_key = \"yes\"\n", "require_key must be"),
            ("budgets = 5\n", "array of tables"),
            ("[[budgets]]\nscope = \"all\"\namount_usd = 0.0000000001\nperiod = \"day\"\n", "at most 9 decimals"),
        ]
        for (toml, words) in bad {
            XCTAssertThrowsError(try settings(toml), toml) { XCTAssertTrue("\($0)".contains(words), "\($0) — wanted: \(words)") }
        }
        let withKey = try ProviderRegistry(overrides: ["openai": .object(["api_key_env": .string("UPSTREAM_KEY")])], defaultProvider: "openai")
        XCTAssertThrowsError(try ControlSettings(config: PlumbConfig(toml: "", environment: [:]), registry: withKey)) {
            XCTAssertTrue("\($0)".contains("UPSTREAM_KEY, which is not set"), "\($0)")
        }
        let held = try ControlSettings(config: PlumbConfig(toml: "", environment: ["UPSTREAM_KEY": "sk-up"]), registry: withKey)
        XCTAssertEqual(held.providerKeys["openai"], "sk-up")
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["openai": .object(["api_key_env": .string("A-B")])], defaultProvider: "openai"))
    }

    func testKeysLiveInTheCatalogAsHashesWithAnAuditChain() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = DataDirectory(dir)
        _ = try data.create()
        let catalog = try Catalog(path: data.catalog)
        let key = PlumbKey.generate()
        XCTAssertTrue(key.hasPrefix("sk-plumb-") && key.count == 49)
        XCTAssertNotEqual(key, PlumbKey.generate())
        try catalog.createKey(PlumbKeyRecord(name: "search", keyHash: PlumbKey.hash(key), prefix: PlumbKey.shownPrefix(key), createdAt: t0,
                                             budget: "200.00/month", requestsPerMinute: 600, models: ["gpt-4o*"], providers: ["openai"]))
        XCTAssertThrowsError(try catalog.createKey(PlumbKeyRecord(name: "search", keyHash: "x", prefix: "p", createdAt: t0)))
        let registry = KeyRegistry(catalogPath: data.catalog)
        // An event loop's own copy, read without the lock, must see every change as soon.
        let loop = EmbeddedEventLoop()
        let perLoop = KeyRegistry(catalogPath: data.catalog, loops: [loop])
        XCTAssertEqual(registry.lookup(key)?.models, ["gpt-4o*"])
        XCTAssertEqual(perLoop.lookup(key, on: loop)?.models, ["gpt-4o*"])
        XCTAssertNil(registry.lookup(key + "x"))
        XCTAssertNil(perLoop.lookup(key + "x", on: loop))
        // Another connection (plumb keys, in another process) rotates it: seen on the next lookup.
        let other = try Catalog(path: data.catalog)
        let newKey = PlumbKey.generate()
        XCTAssertNotNil(try other.rotateKey(named: "search", keyHash: PlumbKey.hash(newKey), prefix: PlumbKey.shownPrefix(newKey), at: t0 + 1))
        XCTAssertNil(registry.lookup(key))
        XCTAssertNil(perLoop.lookup(key, on: loop))
        XCTAssertEqual(registry.lookup(newKey)?.requestsPerMinute, 600)
        XCTAssertEqual(perLoop.lookup(newKey, on: loop)?.requestsPerMinute, 600)
        XCTAssertTrue(try other.revokeKey(named: "search", at: t0 + 2))
        XCTAssertFalse(try other.revokeKey(named: "search", at: t0 + 3))
        XCTAssertNil(registry.lookup(newKey))
        XCTAssertNil(perLoop.lookup(newKey, on: loop))
        // Those were seen through the generation word; a change that did not write it (here, SQL
        // straight into the catalog) is seen within a second, when the registry asks SQLite.
        try other.db.run("UPDATE plumb_keys SET revoked_at = NULL WHERE id = (SELECT max(id) FROM plumb_keys)")
        XCTAssertNil(registry.lookup(newKey), "the word did not change, and SQLite was asked less than a second ago")
        XCTAssertNil(perLoop.lookup(newKey, on: loop))
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertNotNil(registry.lookup(newKey))
        XCTAssertNotNil(perLoop.lookup(newKey, on: loop))
        let mode = try FileManager.default.attributesOfItem(atPath: KeysGeneration.path(catalog: data.catalog))[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        // A symbolic link planted in its place is neither written through nor mapped: lookups
        // fall back to asking SQLite.
        let word = KeysGeneration.path(catalog: data.catalog), elsewhere = dir + "/elsewhere"
        _ = FileManager.default.createFile(atPath: elsewhere, contents: Data("untouched".utf8))
        try FileManager.default.removeItem(atPath: word)
        try FileManager.default.createSymbolicLink(atPath: word, withDestinationPath: elsewhere)
        XCTAssertThrowsError(try KeysGeneration.bump(catalog: data.catalog))
        XCTAssertNil(KeysGeneration(catalog: data.catalog))
        XCTAssertEqual(try String(contentsOfFile: elsewhere, encoding: .utf8), "untouched")
        XCTAssertNotNil(KeyRegistry(catalogPath: data.catalog).lookup(newKey))
        XCTAssertEqual(try catalog.auditRecords().map(\.action), ["key.create", "key.rotate", "key.revoke"])
        XCTAssertEqual(try catalog.auditChainProblems(), [])
        // The catalog holds no key, only hashes.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: data.catalog)) + ((try? Data(contentsOf: URL(fileURLWithPath: data.catalog + "-wal"))) ?? Data())
        XCTAssertNil(bytes.range(of: Data(key.utf8)))
        XCTAssertNil(bytes.range(of: Data(newKey.utf8)))
        // A rewritten audit record breaks the chain, and verify says which.
        try catalog.db.run("UPDATE audit SET detail = 'prefix=sk-plumb-XXXX' WHERE id = 2")
        XCTAssertEqual(try catalog.auditChainProblems(), ["audit record 2: chain_hash does not match its contents"])
        let report = try StoreVerifier.verify(data)
        XCTAssertTrue(report.failures.contains { $0.reason.contains("audit record 2") })
    }

    func testRESPRepliesParseInAnyPiecesAndHostileOnesAreRefused() throws {
        let wire = Array("+OK\r\n-ERR wrong\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*3\r\n:1\r\n$0\r\n\r\n*-1\r\n*0\r\n".utf8)
        let want: [RESPValue] = [.simple("OK"), .error("ERR wrong"), .integer(42), .bulk(Array("hello".utf8)), .bulk(nil),
                                 .array([.integer(1), .bulk([]), .array(nil)]), .array([])]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var d = RESPDecoder(), got: [RESPValue] = [], i = 0
            while i < wire.count {
                let n = Int.random(in: 1...7, using: &rng)
                d.feed(wire[i..<min(wire.count, i + n)])
                i += n
                while let v = try d.next() { got.append(v) }
            }
            XCTAssertEqual(got, want)
        }
        for (bad, words) in [("$2000000\r\n", "over"), ("*5000\r\n", "over"), ("?x\r\n", "not RESP2"), (":x\r\n", "not a number"),
                             ("$3\r\nabcd\r\n", "CRLF"), (String(repeating: "*1\r\n", count: 20) + ":1\r\n", "nested")] {
            var d = RESPDecoder()
            d.feed(Array(bad.utf8))
            XCTAssertThrowsError(try d.next(), bad) { XCTAssertTrue("\($0)".contains(words), "\($0)") }
        }
        var long = RESPDecoder()
        long.feed(Array(("+" + String(repeating: "x", count: 70_000)).utf8))
        XCTAssertThrowsError(try long.next())
        var out = ByteBuffer()
        RESPValue.command(["SET", "k", "vé"], into: &out)
        XCTAssertEqual(out.readString(length: out.readableBytes), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nvé\r\n")
    }

    func testRedisURLsAndPolicies() throws {
        let e = try RedisEndpoint(url: "redis://:s3cret@cache.internal:6380/2", password: nil)
        XCTAssertEqual([e.host, String(e.port), String(e.database), e.password ?? ""], ["cache.internal", "6380", "2", "s3cret"])
        XCTAssertEqual(e.description, "redis://cache.internal:6380/2")
        XCTAssertEqual(try RedisEndpoint(url: "redis://127.0.0.1", password: "env").password, "env")
        for bad in ["http://x", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x", "redis://h /0"] {
            XCTAssertThrowsError(try RedisEndpoint(url: bad, password: nil), bad)
        }
        let registry = try ProviderRegistry(overrides: [:], defaultProvider: "openai")
        let c = try ControlSettings(config: PlumbConfig(toml: "[control]\nredis = \"redis://127.0.0.1:6379\"\nredis_timeout = \"50ms\"\nredis_budgets = \"fail_closed\"\n", environment: [:]), registry: registry)
        XCTAssertEqual(c.redis?.timeout, 0.05)
        XCTAssertEqual(c.redis?.failClosedBudgets, true)
        XCTAssertEqual(c.redis?.failClosedLimits, false)
        for (toml, words) in [("[control]\nredis_limits = \"fail_closed\"\n", "control.redis is not"),
                              ("[control]\nredis = \"redis://h\"\nredis_limits = \"maybe\"\n", "fail_open"),
                              ("[control]\nredis = \"redis://h\"\nredis_timeout = \"1h\"\n", "1ms to 10s"),
                              ("[[limits]]\nname = \"a\"\nscope = \"all\"\nrequests_per_minute = 1\n[[limits]]\nname = \"a\"\nscope = \"all\"\nrequests_per_minute = 2\n", "two have the name 'a'")] {
            XCTAssertThrowsError(try ControlSettings(config: PlumbConfig(toml: toml, environment: [:]), registry: registry), toml) {
                XCTAssertTrue("\($0)".contains(words), "\($0) — wanted \(words)")
            }
        }
    }
}
