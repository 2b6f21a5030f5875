/// A SQL interval as DuckDB keeps it: months, days and microseconds, each independent (a month
/// is not a fixed number of days).
public struct Interval: Sendable, Hashable {
    public var months: Int64
    public var days: Int64
    public var micros: Int64

    public init(months: Int64 = 0, days: Int64 = 0, micros: Int64 = 0) {
        self.months = months; self.days = days; self.micros = micros
    }

    /// Component-wise sum; nil when a component overflows.
    public func adding(_ b: Interval) -> Interval? {
        let m = months.addingReportingOverflow(b.months), d = days.addingReportingOverflow(b.days)
        let u = micros.addingReportingOverflow(b.micros)
        guard !m.overflow, !d.overflow, !u.overflow else { return nil }
        return Interval(months: m.partialValue, days: d.partialValue, micros: u.partialValue)
    }

    /// Every component times `k`; nil on overflow.
    public func times(_ k: Int64) -> Interval? {
        let m = months.multipliedReportingOverflow(by: k), d = days.multipliedReportingOverflow(by: k)
        let u = micros.multipliedReportingOverflow(by: k)
        guard !m.overflow, !d.overflow, !u.overflow else { return nil }
        return Interval(months: m.partialValue, days: d.partialValue, micros: u.partialValue)
    }

    public var negated: Interval { Interval(months: 0 &- months, days: 0 &- days, micros: 0 &- micros) }

    /// Total order used for sorting and comparing, as DuckDB normalises: 30-day months, 24-hour days.
    public var normalizedMicros: Double {
        Double(months) * 30 * 86_400_000_000 + Double(days) * 86_400_000_000 + Double(micros)
    }

    /// DuckDB's text form: "1 year 2 months 3 days 04:05:06.5".
    public var text: String {
        var parts: [String] = []
        let y = months / 12, mo = months % 12
        if y != 0 { parts.append("\(y) year\(abs(y) == 1 ? "" : "s")") }
        if mo != 0 { parts.append("\(mo) month\(abs(mo) == 1 ? "" : "s")") }
        if days != 0 { parts.append("\(days) day\(abs(days) == 1 ? "" : "s")") }
        if micros != 0 || parts.isEmpty {
            let neg = micros < 0
            let m = neg ? -micros : micros
            let h = m / 3_600_000_000, mi = m / 60_000_000 % 60, s = m / 1_000_000 % 60, f = m % 1_000_000
            var t = (neg ? "-" : "") + pad(h) + ":" + pad(mi) + ":" + pad(s)
            if f != 0 {
                var frac = String(f)
                frac = String(repeating: "0", count: 6 - frac.count) + frac
                while frac.hasSuffix("0") { frac.removeLast() }
                t += "." + frac
            }
            parts.append(t)
        }
        return parts.joined(separator: " ")
    }

    private func pad(_ v: Int64) -> String { v < 10 ? "0\(v)" : String(v) }
}

/// Parses interval text: one or more `<number> <unit>` pairs ("1 day", "5 minutes", "1 hour 30
/// minutes", "2.5 seconds"), or a bare "HH:MM:SS".
public enum IntervalParser {
    public enum Unit: Sendable { case micros(Int64), days(Int64), months(Int64) }

    public static func unit(_ word: String) -> Unit? {
        switch word.lowercased() {
        case "microsecond", "microseconds", "us", "usec", "usecs": .micros(1)
        case "millisecond", "milliseconds", "ms", "msec", "msecs": .micros(1_000)
        case "second", "seconds", "s", "sec", "secs": .micros(1_000_000)
        case "minute", "minutes", "m", "min", "mins": .micros(60_000_000)
        case "hour", "hours", "h", "hr", "hrs": .micros(3_600_000_000)
        case "day", "days", "d": .days(1)
        case "week", "weeks", "w": .days(7)
        case "month", "months", "mon", "mons": .months(1)
        case "quarter", "quarters": .months(3)
        case "year", "years", "y", "yr", "yrs": .months(12)
        case "decade", "decades": .months(120)
        case "century", "centuries": .months(1200)
        default: nil
        }
    }

    public static func parse(_ text: String) -> Interval? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !words.isEmpty else { return nil }
        var out = Interval()
        var i = 0
        while i < words.count {
            let w = words[i]
            if w.contains(":") {
                guard let t = clock(w) else { return nil }
                out.micros += t
                i += 1
                continue
            }
            // "5minutes" as well as "5 minutes"
            var numberText = w, unitText: String? = nil
            if let split = w.firstIndex(where: { $0.isLetter }) {
                numberText = String(w[..<split]); unitText = String(w[split...])
            } else if i + 1 < words.count {
                unitText = words[i + 1]; i += 1
            }
            guard let n = Double(numberText), n.isFinite, abs(n) < 1e12, let unitText, let unit = unit(unitText) else { return nil }
            let whole = n.rounded(.towardZero)
            var part = Interval()
            switch unit {
            case .micros(let k):
                guard let u = Int64(exactly: (n * Double(k)).rounded()) else { return nil }
                part.micros = u
            case .days(let k):
                part.days = Int64(whole) * k
                part.micros = Int64(((n - whole) * Double(k) * 86_400_000_000).rounded())
            case .months(let k):
                part.months = Int64(whole) * k
                part.days = Int64(((n - whole) * Double(k) * 30).rounded())
            }
            guard let sum = out.adding(part) else { return nil }
            out = sum
            i += 1
        }
        return out
    }

    /// "HH:MM[:SS[.ffffff]]" in microseconds.
    static func clock(_ s: String) -> Int64? {
        let neg = s.hasPrefix("-")
        let parts = (neg ? String(s.dropFirst()) : s).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let h = Int64(parts[0]), let m = Int64(parts[1]),
              abs(h) < 1_000_000_000, abs(m) < 1_000_000_000 else { return nil }
        var total = h * 3_600_000_000 + m * 60_000_000
        if parts.count == 3 {
            guard let sec = Double(parts[2]), sec.isFinite, abs(sec) < 1e12 else { return nil }
            total += Int64((sec * 1_000_000).rounded())
        }
        return neg ? -total : total
    }
}
