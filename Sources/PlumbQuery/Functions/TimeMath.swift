import PlumbCore

/// Calendar arithmetic on microsecond UTC timestamps, with DuckDB's definitions: months add by
/// calendar (Jan 31 + 1 month = Feb 28), `date_trunc` weeks start on Monday (ISO), and
/// `time_bucket` buckets are aligned to 2000-01-03 00:00 (a Monday) for day/hour/minute widths
/// and to 2000-01-01 for month widths.
public enum TimeMath {
    static let microsPerDay: Int64 = 86_400_000_000
    /// DuckDB's default time_bucket origins (duckdb docs, "time_bucket").
    static let originDays = Timestamp.days(year: 2000, month: 1, day: 3) * 86_400_000_000
    static let originMonths: Int64 = (2000 * 12) + 0            // months since year 0 of 2000-01

    @inline(__always) static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func split(_ t: Int64) -> (year: Int64, month: Int64, day: Int64, micros: Int64) {
        let days = floorDiv(t, microsPerDay)
        let (y, m, d) = Timestamp.civil(days: days)
        return (y, m, d, t - days * microsPerDay)
    }

    static func make(_ y: Int64, _ m: Int64, _ d: Int64, micros: Int64 = 0) -> Int64 {
        Timestamp.days(year: y, month: m, day: d) * microsPerDay + micros
    }

    static func daysIn(month m: Int64, year y: Int64) -> Int64 {
        switch m {
        case 2: (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Timestamps are kept within ±9·10¹⁸ µs (about ±285,000 years) so calendar math never overflows.
    static let limit: Int64 = 9_000_000_000_000_000_000

    public static func add(_ i: Interval, to t: Int64) throws -> Int64 {
        let outOfRange = QueryError("timestamp out of range")
        var r = t
        if i.months != 0 {
            guard abs(i.months) < 4_000_000 else { throw outOfRange }
            let (y, m, d, us) = split(t)
            let total = y * 12 + (m - 1) + i.months
            let ny = floorDiv(total, 12), nm = total - ny * 12 + 1
            guard abs(ny) < 300_000 else { throw outOfRange }
            r = make(ny, nm, min(d, daysIn(month: nm, year: ny)), micros: us)
        }
        let (a, o1) = i.days.multipliedReportingOverflow(by: microsPerDay)
        let (b, o2) = r.addingReportingOverflow(a)
        let (c, o3) = b.addingReportingOverflow(i.micros)
        guard !(o1 || o2 || o3), abs(c) <= limit else { throw outOfRange }
        return c
    }

    /// `t` rounded down to a multiple of `k` (t itself where that would overflow).
    @inline(__always) static func floorTo(_ t: Int64, _ k: Int64) -> Int64 {
        let (r, o) = floorDiv(t, k).multipliedReportingOverflow(by: k)
        return o ? t : r
    }

    /// A date part named in `date_trunc` or `date_part`, resolved once per query (not per row).
    public enum Part: Sendable {
        case microsecond, millisecond, second, minute, hour, day, week, month, quarter, year, decade, century, millennium
        case dayOfWeek, isoDayOfWeek, dayOfYear, epoch

        public init?(_ name: String) {
            switch name.lowercased() {
            case "microsecond", "microseconds", "us": self = .microsecond
            case "millisecond", "milliseconds", "ms": self = .millisecond
            case "second", "seconds", "s", "sec": self = .second
            case "minute", "minutes", "m", "min": self = .minute
            case "hour", "hours", "h", "hr": self = .hour
            case "day", "days", "d", "dayofmonth": self = .day
            case "week", "weeks", "w", "yearweek": self = .week
            case "month", "months", "mon": self = .month
            case "quarter", "quarters": self = .quarter
            case "year", "years", "y", "yr": self = .year
            case "decade", "decades": self = .decade
            case "century", "centuries": self = .century
            case "millennium", "millennia": self = .millennium
            case "dow", "dayofweek": self = .dayOfWeek
            case "isodow": self = .isoDayOfWeek
            case "doy", "dayofyear": self = .dayOfYear
            case "epoch": self = .epoch
            default: return nil
            }
        }

        /// Parts `date_trunc` accepts.
        public var truncates: Bool { ![.dayOfWeek, .isoDayOfWeek, .dayOfYear, .epoch].contains(self) }
    }

    /// `date_trunc(part, t)` (a part for which `truncates` holds).
    @inline(__always) public static func truncate(_ part: Part, _ t: Int64) -> Int64 {
        switch part {
        case .microsecond: return t
        case .millisecond: return floorTo(t, 1_000)
        case .second: return floorTo(t, 1_000_000)
        case .minute: return floorTo(t, 60_000_000)
        case .hour: return floorTo(t, 3_600_000_000)
        case .day: return floorTo(t, microsPerDay)
        case .week:
            let days = floorDiv(t, microsPerDay)
            let weekday = ((days + 3) % 7 + 7) % 7            // 1970-01-01 was a Thursday; Monday = 0
            return (days - weekday) * microsPerDay
        case .month: let (y, m, _, _) = split(t); return make(y, m, 1)
        case .quarter: let (y, m, _, _) = split(t); return make(y, (m - 1) / 3 * 3 + 1, 1)
        case .year: let (y, _, _, _) = split(t); return make(y, 1, 1)
        case .decade: let (y, _, _, _) = split(t); return make(floorDiv(y, 10) * 10, 1, 1)
        case .century: let (y, _, _, _) = split(t); return make(floorDiv(y - 1, 100) * 100 + 1, 1, 1)
        case .millennium: let (y, _, _, _) = split(t); return make(floorDiv(y - 1, 1000) * 1000 + 1, 1, 1)
        case .dayOfWeek, .isoDayOfWeek, .dayOfYear, .epoch: return t
        }
    }

    /// `date_part(part, t)` / `extract(part FROM t)`.
    public static func part(_ part: Part, _ t: Int64) -> Int64 {
        let (y, m, d, us) = split(t)
        let days = floorDiv(t, microsPerDay)
        switch part {
        case .year: return y
        case .month: return m
        case .day: return d
        case .hour: return us / 3_600_000_000
        case .minute: return us / 60_000_000 % 60
        case .second: return us / 1_000_000 % 60
        case .millisecond: return us / 1_000 % 60_000
        case .microsecond: return us % 60_000_000
        case .quarter: return (m - 1) / 3 + 1
        case .week:                                           // ISO week number
            let weekday = ((days + 3) % 7 + 7) % 7
            let thursday = days - weekday + 3
            let (ty, _, _) = Timestamp.civil(days: thursday)
            return (thursday - Timestamp.days(year: ty, month: 1, day: 1)) / 7 + 1
        case .decade: return floorDiv(y, 10)
        case .century: return y > 0 ? (y - 1) / 100 + 1 : -((-y) / 100 + 1)
        case .millennium: return y > 0 ? (y - 1) / 1000 + 1 : -((-y) / 1000 + 1)
        case .dayOfWeek: return ((days + 4) % 7 + 7) % 7          // Sunday = 0
        case .isoDayOfWeek: return ((days + 3) % 7 + 7) % 7 + 1   // Monday = 1
        case .dayOfYear: return days - Timestamp.days(year: y, month: 1, day: 1) + 1
        case .epoch: return floorDiv(t, 1_000_000)
        }
    }

    /// `time_bucket(width, t)` of each valid row (0 in the others). Rows mostly come in time
    /// order, so a fixed-width bucket, once found, answers the rows after it that fall inside
    /// it without a division.
    static func buckets(_ width: Interval, _ ts: [Int64], valid: [Bool]?) throws -> [Int64] {
        var out = [Int64](repeating: 0, count: ts.count)
        guard width.months == 0 else {
            for i in ts.indices where valid?[i] ?? true { out[i] = try bucket(width, ts[i]) }
            return out
        }
        // The width in microseconds (`bucket` throws for a width out of range before it is used).
        let w = width.days &* microsPerDay &+ width.micros
        var lo = Int64.max, hi = Int64.min          // the last bucket: [lo, hi)
        for i in ts.indices where valid?[i] ?? true {
            let t = ts[i]
            if t >= lo && t < hi { out[i] = lo; continue }
            let b = try bucket(width, t)
            out[i] = b
            // [b, b + w) is one bucket when t landed in it (not so only at overflowing extremes).
            let (end, o) = b.addingReportingOverflow(w)
            if b <= t && !o && t < end && (b &- originDays) % w == 0 { lo = b; hi = end } else { lo = .max; hi = .min }
        }
        return out
    }

    /// `time_bucket(width, t[, origin])`.
    public static func bucket(_ width: Interval, _ t: Int64, origin: Int64? = nil) throws -> Int64 {
        if width.months != 0 {
            guard width.days == 0, width.micros == 0, width.months > 0 else {
                throw QueryError("time_bucket: an interval mixing months with days or time is not supported")
            }
            guard width.months < 4_000_000 else { throw QueryError("time_bucket: the bucket width is too large") }
            let o = origin ?? make(2000, 1, 1)
            let (oy, om, _, _) = split(o)
            let (y, m, _, _) = split(t)
            let diff = (y * 12 + m) - (oy * 12 + om)
            let k = floorDiv(diff, width.months) * width.months
            let total = oy * 12 + (om - 1) + k
            let by = floorDiv(total, 12)
            return make(by, total - by * 12 + 1, 1)
        }
        let (dayMicros, o1) = width.days.multipliedReportingOverflow(by: microsPerDay)
        let (w, o2) = dayMicros.addingReportingOverflow(width.micros)
        guard !o1, !o2, w > 0 else { throw QueryError("time_bucket: the bucket width must be positive and at most 290,000 years") }
        let o = origin ?? originDays
        let (diff, o3) = t.subtractingReportingOverflow(o)
        guard !o3 else { throw QueryError("time_bucket: timestamp out of range") }
        let (r, o4) = floorTo(diff, w).addingReportingOverflow(o)
        guard !o4 else { throw QueryError("time_bucket: timestamp out of range") }
        return r
    }
}
