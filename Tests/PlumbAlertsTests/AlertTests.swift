import Foundation
import XCTest
@testable import PlumbAlerts
@testable import PlumbCore
@testable import PlumbStore
import PlumbTestSupport

/// Alert rules, their evaluation over a real store, and the state and outbox in the catalog
/// (Tests/sdk/test_alerts.py drives the real `plumb serve` with a webhook receiver and SMTP).
final class AlertTests: XCTestCase {
    /// 2026-12-07T10:00:00Z
    let t0: Int64 = 1_797_069_600_000_000

    func catalog() throws -> (Catalog, String) {
        let dir = makeTempDirectory("plumb-alerts")
        let data = DataDirectory(dir)
        _ = try data.create()
        return (try Catalog(path: data.catalog), dir)
    }

    func testEachChangeIsOneMessagePerTargetAndARestartRepeatsNothing() throws {
        let (c, dir) = try catalog()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let targets = ["webhook:http://a/", "slack:https://hooks.slack.com/services/redacted"]
        let errors = AlertInstance(key: "openai", state: "errors", summary: "errors on openai")
        var events = try c.applyAlert(rule: "down", kind: "incident", firing: [errors], targets: targets, now: t0)
        XCTAssertEqual(events.map(\.event), ["open"])
        XCTAssertEqual(try c.dueAlertMessages(now: t0).count, 2)
        // The same finding again, from a new connection (a restarted server): nothing new.
        let again = try Catalog(path: DataDirectory(dir).catalog)
        events = try again.applyAlert(rule: "down", kind: "incident", firing: [errors], targets: targets, now: t0 + 1)
        XCTAssertEqual(events.count, 0)
        var outage = errors
        outage.state = "outage"
        events = try again.applyAlert(rule: "down", kind: "incident", firing: [outage], targets: targets, now: t0 + 2)
        XCTAssertEqual(events.map(\.event), ["change"])
        XCTAssertEqual(events.first?.previousState, "errors")
        events = try again.applyAlert(rule: "down", kind: "incident", firing: [], targets: targets, now: t0 + 3)
        XCTAssertEqual(events.map(\.event), ["resolve"])
        XCTAssertEqual(try again.alertStates().count, 0)
        let due = try again.dueAlertMessages(now: t0 + 3)
        XCTAssertEqual(due.count, 6)
        XCTAssertEqual(due.compactMap { AlertEvent.parse($0.payload)?.event }, ["open", "open", "change", "change", "resolve", "resolve"])
        // Sent ones are not due again; a failed one is due at its retry time, and is given up in the end.
        try again.markAlertSent(due[0].id, at: t0 + 4)
        try again.markAlertFailed(due[1].id, error: "HTTP 500", retryAt: t0 + 10_000_000)
        XCTAssertEqual(try again.dueAlertMessages(now: t0 + 5).map(\.id), due[2...].map(\.id))
        XCTAssertEqual(try again.dueAlertMessages(now: t0 + 10_000_000).count, 5)
        try again.markAlertFailed(due[1].id, error: "HTTP 500", retryAt: nil)
        XCTAssertEqual(try again.dueAlertMessages(now: .max).count, 4)
        XCTAssertEqual(try again.pendingAlertMessages(), 4)
        XCTAssertEqual(try again.alertSends(limit: 10).filter(\.failed).count, 1)
        // Sent and given-up messages leave the outbox after their time; pending ones stay.
        XCTAssertEqual(try again.pruneAlertMessages(before: t0), 0)
        XCTAssertEqual(try again.pruneAlertMessages(before: t0 + 10), 2)
        XCTAssertEqual(try again.alertSends(limit: 10).count, 4)
        XCTAssertEqual(try again.pendingAlertMessages(), 4)
    }

    func testOneEvaluationKeepsAtMostAHundredInstancesTheLargestFirst() throws {
        let dir = makeTempDirectory("plumb-alerts-bound")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = DataDirectory(dir)
        let store = try SpanStore(directory: data, options: .manual(rowGroupSize: 100))
        let now = Timestamp.nowMicros()
        let spans = (0..<150).map { i in
            Span(spanID: SpanID.make(millis: UInt64((now - 60_000_000) / 1000), random: UInt64(i), 7), userID: "u\(i)",
                 tsStart: now - 60_000_000, tsEnd: now, provider: "openai", costUSD: 2 + Double(i) / 100)
        }
        try store.appendWaiting(spans)
        try store.flush()
        let over = try AlertEvaluator(directory: data, budgets: { [] })
            .firing(.spend(window: 3_600_000_000, by: .user, aboveNanos: Money.perDollar, ratio: nil, baseline: 7, minNanos: 0), now: now)
        XCTAssertEqual(over.count, AlertEvaluator.maxInstances)
        XCTAssertEqual(over.first?.key, "u149")
        XCTAssertEqual(Set(over.map(\.key)), Set((50..<150).map { "u\($0)" }))
        try store.close()
    }

    func testBackoffDoublesUpToAnHourThenGivesUp() {
        XCTAssertEqual(AlertSender.retryDelay(afterAttempts: 1), 5)
        XCTAssertEqual(AlertSender.retryDelay(afterAttempts: 2), 10)
        XCTAssertEqual(AlertSender.retryDelay(afterAttempts: 12), 3600)
        XCTAssertNil(AlertSender.retryDelay(afterAttempts: AlertSender.maxAttempts))
    }

    func testMessagesRoundTripAndSlackIsSlacksShape() throws {
        let e = AlertEvent(rule: "r", kind: "spend", event: "change",
                           instance: AlertInstance(key: "u<1>", state: "over", summary: "a & b", figures: ["n": .int(3)], query: "SELECT 1"),
                           previousState: "ok", at: t0)
        XCTAssertEqual(AlertEvent.parse(e.json), e)
        guard case .object(let slack) = try JSONParser.parse(Array(e.slack.utf8)), case .array(let blocks)? = slack["blocks"] else { return XCTFail() }
        XCTAssertEqual(slack["text"]?.stringValue, "[plumb] CHANGED (ok → over) r: a & b")
        XCTAssertEqual(blocks.count, 3)
        XCTAssertTrue(e.slack.contains("a &amp; b"))
        XCTAssertTrue(e.text.contains("n: 3"))
        XCTAssertNil(AlertEvent.parse("{\"plumb_alert\":{}}"))
    }

    func testRulesParseOrSayWhatIsWrong() throws {
        func rules(_ toml: String) throws -> [AlertRule] { try AlertSettings(config: PlumbConfig(toml: toml, path: "t.toml", environment: [:])).rules }
        let ok = try rules("""
            [[alerts]]
            name = "down"
            kind = "incident"
            provider = "openai"
            interval = "5s"
            targets = [{ webhook = "http://127.0.0.1:9/x" }, { slack = "https://hooks.slack.com/services/T/B/SECRET" }]
            [[alerts]]
            kind = "spend"
            window = "1h"
            by = "property:Team"
            above_usd = 50
            targets = [{ webhook = "http://127.0.0.1:9/x" }]
            """)
        XCTAssertEqual(ok.map(\.name), ["down", "alert-2"])
        XCTAssertEqual(ok[0].interval, 5)
        XCTAssertEqual(ok[0].targets[1].name, "slack:https://hooks.slack.com/services/redacted")
        guard case .spend(3_600_000_000, .property("team"), 50_000_000_000?, nil, 7, 0) = ok[1].kind else { return XCTFail("\(ok[1].kind)") }
        let bad: [(String, String)] = [
            ("[[alerts]]\nkind = \"incident\"\n", "targets must list"),
            ("[[alerts]]\nkind = \"weather\"\ntargets = [{ webhook = \"http://x\" }]\n", "kind must be incident, spend, budget or query (got 'weather')"),
            ("[[alerts]]\nkind = \"spend\"\ntargets = [{ webhook = \"http://x\" }]\n", "needs above_usd or above_ratio"),
            ("[[alerts]]\nkind = \"spend\"\nabove_ratio = 0.5\ntargets = [{ webhook = \"http://x\" }]\n", "above_ratio must be above 1"),
            ("[[alerts]]\nkind = \"spend\"\nabove_usd = 1\nby = \"color\"\ntargets = [{ webhook = \"http://x\" }]\n", "by must be"),
            ("[[alerts]]\nkind = \"query\"\ntargets = [{ webhook = \"http://x\" }]\n", "needs sql"),
            ("[[alerts]]\nkind = \"incident\"\ntargets = [{ pager = \"x\" }]\n", "unknown target 'pager'"),
            ("[[alerts]]\nkind = \"incident\"\ntargets = [{ webhook = \"ftp://x\" }]\n", "http:// or https://"),
            ("[[alerts]]\nkind = \"incident\"\ntargets = [{ email = \"a@b.c\" }]\n", "needs the SMTP settings"),
            ("[[alerts]]\nkind = \"incident\"\ninterval = \"0s\"\ntargets = [{ webhook = \"http://x\" }]\n", "at least 1s"),
            ("[[alerts]]\nkind = \"budget\"\nthresholds = [0]\ntargets = [{ webhook = \"http://x\" }]\n", "whole percentage"),
            ("[[alerts]]\nname = \"a\"\nkind = \"incident\"\ntargets = [{ webhook = \"http://x\" }]\n[[alerts]]\nname = \"a\"\nkind = \"incident\"\ntargets = [{ webhook = \"http://x\" }]\n", "used by another rule"),
            ("[[alerts]]\nkind = \"incident\"\nsound = \"loud\"\ntargets = [{ webhook = \"http://x\" }]\n", "unknown key 'sound'"),
        ]
        for (toml, words) in bad {
            XCTAssertThrowsError(try rules(toml), toml) { XCTAssertTrue("\($0)".contains(words), "\($0) — wanted: \(words)") }
        }
    }

    func testSpendBudgetAndQueryRulesReadTheStore() throws {
        let dir = makeTempDirectory("plumb-alerts-store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = DataDirectory(dir)
        let store = try SpanStore(directory: data, options: .manual(rowGroupSize: 100))
        let now = Timestamp.nowMicros()
        var spans: [Span] = []
        // Last hour: alice 3.00, bob 0.50. The 7 hours before: alice 0.10 an hour.
        for i in 0..<30 { spans.append(Span(spanID: SpanID.make(millis: UInt64((now - 60_000_000 - Int64(i)) / 1000), random: UInt64(i), 1), userID: "alice",
                                            tsStart: now - 60_000_000 - Int64(i), tsEnd: now, provider: "openai", costUSD: 0.1)) }
        for i in 0..<5 { spans.append(Span(spanID: SpanID.make(millis: UInt64((now - 120_000_000) / 1000), random: UInt64(100 + i), 2), userID: "bob",
                                           tsStart: now - 120_000_000 - Int64(i), tsEnd: now, provider: "openai", costUSD: 0.1)) }
        for h in 1...7 {
            let t = now - Int64(h) * 3_600_000_000 - 600_000_000
            spans.append(Span(spanID: SpanID.make(millis: UInt64(t / 1000), random: UInt64(200 + h), 3), userID: "alice", tsStart: t, tsEnd: t,
                              provider: "openai", costUSD: 0.1))
        }
        try store.appendWaiting(spans)
        try store.flush()
        let evaluator = AlertEvaluator(directory: data, budgets: { [BudgetStatus(name: "team", spentNanos: 85, amountNanos: 100),
                                                                   BudgetStatus(name: "low", spentNanos: 10, amountNanos: 100)] })
        let over = try evaluator.firing(.spend(window: 3_600_000_000, by: .user, aboveNanos: 1 * Money.perDollar, ratio: nil, baseline: 7, minNanos: 0), now: now)
        XCTAssertEqual(over.map(\.key), ["alice"])
        XCTAssertTrue(over[0].summary.contains("3.00 USD"), over[0].summary)
        let spike = try evaluator.firing(.spend(window: 3_600_000_000, by: .user, aboveNanos: nil, ratio: 10, baseline: 7, minNanos: 0), now: now)
        XCTAssertEqual(spike.map(\.key), ["alice"])                          // 3.00 is 30× 0.10; bob has no history
        XCTAssertTrue(spike[0].summary.contains("30.0×"), spike[0].summary)
        let levels = try evaluator.firing(.budget(name: nil, thresholds: [50, 80, 100]), now: now)
        XCTAssertEqual(levels.map { "\($0.key) \($0.state)" }, ["team 80%"])
        let rows = try evaluator.firing(.query(sql: "SELECT user_id, count(*) AS calls FROM spans GROUP BY user_id HAVING count(*) > 10 ORDER BY 1"), now: now)
        XCTAssertEqual(rows.map(\.key), ["alice"])
        XCTAssertEqual(rows.first?.summary, "user_id = alice, calls = 37")
        XCTAssertThrowsError(try evaluator.firing(.query(sql: "SELECT nope FROM spans"), now: now))
        try store.close()
    }
}
