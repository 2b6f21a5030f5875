import Foundation
import PlumbCore

/// The day or ISO week (Monday to Monday) a digest covers, in a time zone, as UTC microseconds
/// [start, end); and the periods it is compared with.
///
/// ```swift
/// let p = try DigestPeriod.make(.day, date: "2026-11-30", timezone: "Europe/Berlin", now: Timestamp.nowMicros())
/// p.start   // 2026-11-29T23:00:00Z
/// p.previous.label   // "2026-11-29"
/// ```
public struct DigestPeriod: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case day, week }

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public var kind: Kind
    public var timezone: String
    /// The first local day, "YYYY-MM-DD".
    public var firstDay: String
    public var start: Int64
    public var end: Int64

    /// How many periods the trailing average takes: 7 days or 4 weeks.
    public var baselinePeriods: Int { kind == .day ? 7 : 4 }

    static func calendar(_ tz: TimeZone) -> Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = tz
        c.firstWeekday = 2          // ISO weeks start on Monday
        c.minimumDaysInFirstWeek = 4
        return c
    }

    public static func zone(_ name: String) throws -> TimeZone {
        guard let tz = TimeZone(identifier: name) else {
            throw Problem(description: "unknown time zone '\(name)' (use an IANA name such as UTC or Europe/Berlin)")
        }
        return tz
    }

    /// The period holding `date` (default: the last complete one before `now`).
    public static func make(_ kind: Kind, date: String?, timezone: String, now: Int64) throws -> DigestPeriod {
        let tz = try zone(timezone)
        let cal = calendar(tz)
        var day: Date
        if let date {
            let parts = date.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3, date.count == 10, let d = cal.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
                  cal.component(.day, from: d) == parts[2] else {
                throw Problem(description: "--date '\(date)' is not a date YYYY-MM-DD")
            }
            day = d
        } else {
            let today = cal.startOfDay(for: Date(timeIntervalSince1970: Double(now) / 1e6))
            day = cal.date(byAdding: .day, value: kind == .day ? -1 : -7, to: today)!
        }
        return at(kind, cal.startOfDay(for: day), cal, name: timezone)
    }

    static func at(_ kind: Kind, _ day: Date, _ cal: Calendar, name: String) -> DigestPeriod {
        var first = day
        if kind == .week {
            let weekday = cal.component(.weekday, from: day)          // 1 = Sunday
            first = cal.date(byAdding: .day, value: -((weekday + 5) % 7), to: day)!
        }
        let next = cal.date(byAdding: .day, value: kind == .day ? 1 : 7, to: first)!
        let f = DateFormatter()
        f.calendar = cal; f.timeZone = cal.timeZone; f.locale = Locale(identifier: "en_US_POSIX"); f.dateFormat = "yyyy-MM-dd"
        return DigestPeriod(kind: kind, timezone: name, firstDay: f.string(from: first),
                            start: Int64((first.timeIntervalSince1970 * 1e6).rounded()), end: Int64((next.timeIntervalSince1970 * 1e6).rounded()))
    }

    /// The period `n` periods later (negative: earlier).
    public func shifted(_ n: Int) -> DigestPeriod {
        let cal = Self.calendar(TimeZone(identifier: timezone)!)
        let first = Date(timeIntervalSince1970: Double(start) / 1e6)
        return Self.at(kind, cal.date(byAdding: .day, value: n * (kind == .day ? 1 : 7), to: first)!, cal, name: timezone)
    }

    public var previous: DigestPeriod { shifted(-1) }

    /// The trailing window the average is taken over: the `baselinePeriods` periods before this one.
    public var baseline: (start: Int64, end: Int64) { (shifted(-baselinePeriods).start, start) }

    /// "2026-11-30" or "week of 2026-11-23".
    public var label: String { kind == .day ? firstDay : "week of \(firstDay)" }

    /// A condition on `ts_start` for [from, to), for the query dialect.
    static func condition(_ from: Int64, _ to: Int64) -> String {
        "ts_start >= TIMESTAMP '\(Timestamp.format(from))' AND ts_start < TIMESTAMP '\(Timestamp.format(to))'"
    }

    public var condition: String { Self.condition(start, end) }
}
