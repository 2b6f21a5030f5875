import Foundation

/// The span of time a budget counts spend over: a calendar day, ISO week (from Monday) or
/// month in a time zone, or a rolling window (the last `24h`) that has no reset.
///
/// ```swift
/// let p = try BudgetPeriod.parse("month")
/// p.window(at: now, in: TimeZone(identifier: "Europe/Berlin")!)   // (start, end) in UTC µs
/// try BudgetPeriod.parse("24h")                                    // .rolling(86_400_000_000)
/// ```
public enum BudgetPeriod: Sendable, Equatable, CustomStringConvertible {
    case day, week, month
    /// The last so many microseconds, always.
    case rolling(Int64)

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static func parse(_ text: String) throws -> BudgetPeriod {
        switch text.trimmingSpaces().lowercased() {
        case "day", "daily": return .day
        case "week", "weekly": return .week
        case "month", "monthly": return .month
        case let t:
            guard let micros = PlumbConfig.parseDuration(t), micros >= 60_000_000, micros <= 366 * 86_400_000_000 else {
                throw Problem(description: "period '\(text)' is not day, week, month or a rolling window from 1m to 366d (such as \"24h\")")
            }
            return .rolling(micros)
        }
    }

    public var description: String {
        switch self {
        case .day: "day"
        case .week: "week"
        case .month: "month"
        case .rolling(let m):
            m % 86_400_000_000 == 0 ? "\(m / 86_400_000_000)d" : m % 3_600_000_000 == 0 ? "\(m / 3_600_000_000)h" : "\(m / 60_000_000)m"
        }
    }

    /// The calendar period holding `now` as UTC microseconds [start, end); for a rolling
    /// window, (now - window, now].
    public func window(at now: Int64, in zone: TimeZone) -> (start: Int64, end: Int64) {
        if case .rolling(let w) = self { return (now - w, now) }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        cal.firstWeekday = 2
        cal.minimumDaysInFirstWeek = 4
        let date = Date(timeIntervalSince1970: Double(now) / 1e6)
        let unit: Calendar.Component = self == .day ? .day : self == .week ? .weekOfYear : .month
        guard let interval = cal.dateInterval(of: unit, for: date) else { return (now, now + 86_400_000_000) }
        return (Int64((interval.start.timeIntervalSince1970 * 1e6).rounded()), Int64((interval.end.timeIntervalSince1970 * 1e6).rounded()))
    }
}

/// A budget as `plumb keys create --budget` writes it: `200/month`, `50/day`, `10/24h`.
public struct BudgetSpec: Sendable, Equatable, CustomStringConvertible {
    public var amountNanos: Int64
    public var period: BudgetPeriod

    public init(amountNanos: Int64, period: BudgetPeriod) { self.amountNanos = amountNanos; self.period = period }

    public static func parse(_ text: String) throws -> BudgetSpec {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw BudgetPeriod.Problem(description: "budget '\(text)' is not AMOUNT/PERIOD, such as 200/month or 10/24h") }
        var amount = String(parts[0]).trimmingSpaces()
        if amount.hasPrefix("$") { amount.removeFirst() }
        guard let nanos = Money.nanos(parsing: amount), nanos > 0 else {
            throw BudgetPeriod.Problem(description: "budget '\(text)': the amount must be dollars above 0 with at most 9 decimals, such as 200 or 12.50")
        }
        return BudgetSpec(amountNanos: nanos, period: try BudgetPeriod.parse(String(parts[1])))
    }

    public var description: String { "\(Money.format(amountNanos))/\(period)" }
}

/// Rate limits as `plumb keys create --limit` writes them: `600rpm`, `100000tpm`, or both
/// separated by a comma.
public struct LimitSpec: Sendable, Equatable {
    public var requestsPerMinute: Int64?
    public var tokensPerMinute: Int64?

    public init(requestsPerMinute: Int64? = nil, tokensPerMinute: Int64? = nil) {
        self.requestsPerMinute = requestsPerMinute; self.tokensPerMinute = tokensPerMinute
    }

    /// The largest limit accepted: far above any provider's, small enough to count in memory.
    public static let maxPerMinute: Int64 = 1_000_000_000

    public static func parse(_ text: String) throws -> LimitSpec {
        var spec = LimitSpec()
        for part in text.split(separator: ",").map({ String($0).trimmingSpaces().lowercased() }) {
            let (digits, unit) = (part.prefix { $0.isNumber }, part.drop { $0.isNumber })
            guard let n = Int64(digits), n > 0, n <= maxPerMinute, unit == "rpm" || unit == "tpm" else {
                throw BudgetPeriod.Problem(description: "limit '\(part)' is not a count per minute such as 600rpm or 100000tpm (1 to \(maxPerMinute))")
            }
            if unit == "rpm" { spec.requestsPerMinute = n } else { spec.tokensPerMinute = n }
        }
        guard spec.requestsPerMinute != nil || spec.tokensPerMinute != nil else {
            throw BudgetPeriod.Problem(description: "limit '\(text)' names no limit (such as 600rpm or 100000tpm)")
        }
        return spec
    }
}
