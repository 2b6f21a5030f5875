/// US dollars as whole nanodollars (1e-9 USD): spend adds up exactly, whatever the order,
/// and a budget's edge is a comparison of integers.
///
/// ```swift
/// Money.nanos(parsing: "200")      // 200_000_000_000
/// Money.nanos(parsing: "0.015")    // 15_000_000
/// Money.nanos(0.0000025)           // 2_500
/// ```
public enum Money {
    public static let perDollar: Int64 = 1_000_000_000

    /// A cost in dollars (a span's `cost_usd`), rounded to the nanodollar; nil and negative: 0.
    public static func nanos(_ usd: Double?) -> Int64 {
        guard let usd, usd > 0, usd.isFinite else { return 0 }
        return usd >= 9e9 ? Int64.max / 4 : Int64((usd * 1e9).rounded())
    }

    /// A decimal amount of dollars as written (`200`, `12.50`, `0.000001`): at most 9 decimals,
    /// under a billion dollars. Nil for anything else.
    public static func nanos(parsing text: String) -> Int64? {
        let t = text.trimmingSpaces()
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 9,
              parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) }), let whole = Int64(parts[0]) else { return nil }
        var frac: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 9, f.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let v = Int64(f) else { return nil }
            var scale: Int64 = 1
            for _ in 0..<(9 - f.count) { scale *= 10 }
            frac = v * scale
        }
        return whole * perDollar + frac
    }

    /// `12.5` → "12.50"; more decimals when the amount has them (up to 9).
    public static func format(_ nanos: Int64) -> String {
        let sign = nanos < 0 ? "-" : ""
        let n = nanos.magnitude
        let whole = n / UInt64(perDollar), frac = n % UInt64(perDollar)
        var f = String(frac)
        f = String(repeating: "0", count: 9 - f.count) + f
        while f.count > 2 && f.hasSuffix("0") { f.removeLast() }
        return "\(sign)\(whole).\(f)"
    }
}
