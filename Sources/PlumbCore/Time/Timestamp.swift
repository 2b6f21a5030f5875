#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Microsecond UTC timestamps: parsing and formatting ISO 8601, and the wall clock.
///
/// ```swift
/// Timestamp.format(0)                                   // "1970-01-01T00:00:00.000000Z"
/// try Timestamp.parse("2026-11-21T10:00:00.5Z")         // 1795255200500000
/// ```
public enum Timestamp {
    public static func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (the well-known "days from civil" method).
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civil(days z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six fractional digits.
    public static func format(_ micros: Int64, separator: Character = "T", zulu: Bool = true) -> String {
        let secs = floorDiv(micros, 1_000_000)
        let frac = micros - secs * 1_000_000
        let days = floorDiv(secs, 86_400)
        let sod = secs - days * 86_400
        let (y, m, d) = civil(days: days)
        var s = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
        s.append(separator)
        s += pad(sod / 3600, 2) + ":" + pad(sod / 60 % 60, 2) + ":" + pad(sod % 60, 2) + "." + pad(frac, 6)
        if zulu { s += "Z" }
        return s
    }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let text: String
        public var description: String { "invalid timestamp '\(text)' (expected ISO 8601, e.g. 2026-11-21T10:00:00.123Z)" }
    }

    /// Accepts `YYYY-MM-DD[(T| )HH:MM[:SS[.f{1,9}]]][Z|±HH:MM|±HHMM]`; no zone means UTC.
    public static func parse(_ text: String) throws -> Int64 {
        var copy = text
        return try copy.withUTF8 { try parse(bytes: $0, text: text) }
    }

    /// `parse` on UTF-8 bytes, nil where it would throw (no message is made).
    public static func parseIfValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        try? parse(bytes: bytes, text: "")
    }

    static func parse(bytes b: UnsafeBufferPointer<UInt8>, text: String) throws -> Int64 {
        var i = 0
        func num(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int64(c - 0x30)
            }
            i += n
            return v
        }
        func expect(_ c: Unicode.Scalar) -> Bool {
            // A scalar, not a Character: Character's comparisons cost more than the whole parse.
            guard i < b.count, b[i] == UInt8(ascii: c) else { return false }
            i += 1; return true
        }
        let err = ParseError(text: text)
        guard let y = num(4), expect("-"), let mo = num(2), expect("-"), let d = num(2),
              (1...12).contains(mo), (1...daysIn(month: mo, year: y)).contains(d) else { throw err }
        var h: Int64 = 0, mi: Int64 = 0, s: Int64 = 0, frac: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == UInt8(ascii: " ") {
            i += 1
            guard let hh = num(2), expect(":"), let mm = num(2), hh < 24, mm < 60 else { throw err }
            h = hh; mi = mm
            if expect(":") {
                guard let ss = num(2), ss < 61 else { throw err }
                s = min(ss, 59)
                if expect(".") {
                    var digits = 0
                    while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                        if digits < 6 { frac = frac * 10 + Int64(b[i] - 0x30) }
                        digits += 1; i += 1
                    }
                    guard digits > 0 else { throw err }
                    for _ in digits..<max(digits, 6) { frac *= 10 }
                }
            }
        }
        var offset: Int64 = 0
        if i < b.count {
            if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { i += 1 }
            else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let oh = num(2) else { throw err }
                _ = expect(":")
                guard let om = num(2) else { throw err }
                offset = sign * (oh * 3600 + om * 60)
            }
        }
        guard i == b.count else { throw err }
        let secs = days(year: y, month: mo, day: d) * 86_400 + h * 3600 + mi * 60 + s - offset
        return secs * 1_000_000 + frac
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    @inline(__always) static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
