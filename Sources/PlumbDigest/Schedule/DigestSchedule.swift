import Foundation
import PlumbCore

/// When digests are due: a period's digest goes out at `time` (local, in `timezone`) on the day
/// after it ends. Given the last period sent, the periods due now are every later one whose time
/// has come (a server that was down catches up, at most `catchUp` of them); with none sent yet,
/// only the latest.
///
/// ```swift
/// let s = try DigestSchedule(kind: .day, time: "08:00", timezone: "Europe/Berlin")
/// s.due(now: Timestamp.nowMicros(), lastSent: "2026-11-28")   // the days after, up to yesterday (once 08:00 has passed)
/// ```
public struct DigestSchedule: Sendable, Equatable {
    public var kind: DigestPeriod.Kind
    public var hour: Int
    public var minute: Int
    public var timezone: String
    public var catchUp = 7

    public init(kind: DigestPeriod.Kind, time: String, timezone: String) throws {
        let parts = time.split(separator: ":").map { Int($0) }
        guard parts.count == 2, let h = parts[0], let m = parts[1], (0..<24).contains(h), (0..<60).contains(m) else {
            throw DigestPeriod.Problem(description: "digest time '\(time)' is not HH:MM")
        }
        _ = try DigestPeriod.zone(timezone)
        self.kind = kind; hour = h; minute = m; self.timezone = timezone
    }

    /// When the digest of `p` is due.
    public func sendTime(_ p: DigestPeriod) -> Int64 {
        let cal = DigestPeriod.calendar(TimeZone(identifier: timezone)!)
        let day = Date(timeIntervalSince1970: Double(p.end) / 1e6)
        let at = cal.date(bySettingHour: hour, minute: minute, second: 0, of: day) ?? day
        return Int64((at.timeIntervalSince1970 * 1e6).rounded())
    }

    public func due(now: Int64, lastSent: String?) -> [DigestPeriod] {
        guard var latest = try? DigestPeriod.make(kind, date: nil, timezone: timezone, now: now) else { return [] }
        if sendTime(latest) > now { latest = latest.previous }
        guard let lastSent, let last = try? DigestPeriod.make(kind, date: lastSent, timezone: timezone, now: now) else { return [latest] }
        var out: [DigestPeriod] = []
        var p = last.shifted(1)
        while p.start <= latest.start {
            out.append(p)
            p = p.shifted(1)
        }
        return Array(out.suffix(catchUp))
    }
}
