import PlumbCore
import PlumbDigest
import XCTest

/// Periods in time zones (DST included), and which digests are due when.
final class DigestScheduleTests: XCTestCase {
    func t(_ s: String) -> Int64 { try! Timestamp.parse(s) }

    func testDaysAndWeeksInATimeZone() throws {
        let d = try DigestPeriod.make(.day, date: "2026-03-29", timezone: "Europe/Berlin", now: 0)   // DST starts: 23 hours
        XCTAssertEqual(d.start, t("2026-03-28T23:00:00Z"))
        XCTAssertEqual(d.end, t("2026-03-29T22:00:00Z"))
        let w = try DigestPeriod.make(.week, date: "2026-12-03", timezone: "UTC", now: 0)
        XCTAssertEqual(w.firstDay, "2026-11-30")                 // the Monday
        XCTAssertEqual(w.end - w.start, 7 * 86_400_000_000)
        XCTAssertEqual(w.previous.firstDay, "2026-11-23")
        XCTAssertEqual(w.baseline.start, try DigestPeriod.make(.week, date: "2026-11-02", timezone: "UTC", now: 0).start)
        let sunday = try DigestPeriod.make(.week, date: "2026-12-06", timezone: "UTC", now: 0)
        XCTAssertEqual(sunday.firstDay, "2026-11-30")
        // Default: the last complete period.
        XCTAssertEqual(try DigestPeriod.make(.day, date: nil, timezone: "UTC", now: t("2026-12-01T00:30:00Z")).firstDay, "2026-11-30")
        XCTAssertEqual(try DigestPeriod.make(.day, date: nil, timezone: "America/Los_Angeles", now: t("2026-12-01T00:30:00Z")).firstDay, "2026-11-29")
        XCTAssertThrowsError(try DigestPeriod.make(.day, date: "2026-02-30", timezone: "UTC", now: 0))
        XCTAssertThrowsError(try DigestPeriod.make(.day, date: nil, timezone: "Nowhere/Else", now: 0))
    }

    func testDueDigests() throws {
        let s = try DigestSchedule(kind: .day, time: "08:00", timezone: "Europe/Berlin")
        // 07:59 Berlin on Dec 1: the Nov 30 digest is not due yet; the Nov 29 one is.
        XCTAssertEqual(s.due(now: t("2026-12-01T06:59:00Z"), lastSent: nil).map(\.firstDay), ["2026-11-29"])
        XCTAssertEqual(s.due(now: t("2026-12-01T07:00:00Z"), lastSent: nil).map(\.firstDay), ["2026-11-30"])
        XCTAssertEqual(s.due(now: t("2026-12-01T07:00:00Z"), lastSent: "2026-11-30"), [])
        XCTAssertEqual(s.due(now: t("2026-12-01T07:00:00Z"), lastSent: "2026-11-27").map(\.firstDay), ["2026-11-28", "2026-11-29", "2026-11-30"])
        XCTAssertEqual(s.due(now: t("2026-12-01T07:00:00Z"), lastSent: "2026-10-01").count, 7)      // catch-up is bounded
        XCTAssertEqual(s.sendTime(try DigestPeriod.make(.day, date: "2026-11-30", timezone: "Europe/Berlin", now: 0)), t("2026-12-01T07:00:00Z"))
        let weekly = try DigestSchedule(kind: .week, time: "09:30", timezone: "UTC")
        XCTAssertEqual(weekly.due(now: t("2026-11-30T09:29:00Z"), lastSent: nil).map(\.firstDay), ["2026-11-16"])
        XCTAssertEqual(weekly.due(now: t("2026-11-30T09:30:00Z"), lastSent: "2026-11-16").map(\.firstDay), ["2026-11-23"])
        XCTAssertThrowsError(try DigestSchedule(kind: .day, time: "25:00", timezone: "UTC"))
    }

    func testSettingsFromConfig() throws {
        let c = try PlumbConfig(toml: """
            [digest]
            time = "08:00"
            timezone = "Europe/Berlin"
            smtp_url = "smtps://user:pw@mail.example.com"
            from = "plumb@example.com"
            to = ["a@example.com", "b@example.com"]
            webhook = "https://hooks.slack.com/services/T0/B0/SECRET"
            webhook_format = "slack"
            """, environment: ["PLUMB_SMTP_PASSWORD": "from-env"])
        let s = try DigestSettings(config: c)
        XCTAssertEqual(s.smtp?.password, "from-env")
        XCTAssertEqual(s.targets.map(\.name), ["smtps://mail.example.com → a@example.com, b@example.com",
                                               "https://hooks.slack.com/services/redacted (slack)"])
        for bad in ["[digest]\nperiod = \"month\"", "[digest]\ntime = \"8am\"\nwebhook = \"http://x\"", "[digest]\nsmtp_url = \"smtp://x\"",
                    "[digest]\ntime = \"08:00\"", "[digest]\ncolour = 1"] {
            XCTAssertThrowsError(try DigestSettings(config: try PlumbConfig(toml: bad)), bad)
        }
    }
}
