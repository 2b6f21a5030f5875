import PlumbCore
import PlumbQuery

/// The digest laid out once as sections of figures, tables and notes; the text, Markdown and
/// HTML renderers each draw this, so the three say the same things in the same order.
struct DigestDocument {
    struct Table {
        var headers: [String]
        var rows: [[String]]
        /// Columns that hold numbers (right-aligned).
        var numeric: Set<Int>
        /// A bar per row, 0...1 (its share of the largest), drawn after the row.
        var bars: [Double]? = nil
    }

    enum Block {
        case figures([(label: String, value: String, note: String?)])
        case table(Table)
        case note(String)
    }

    struct Section {
        var title: String
        var blocks: [Block]
    }

    var title: String
    var subtitle: String
    var sections: [Section]

    static func money(_ d: Double) -> String {
        let cents = (d * 100).rounded()
        let whole = Int64(cents / 100)
        let frac = Int64(abs(cents).truncatingRemainder(dividingBy: 100))
        return (d < 0 && whole == 0 ? "-" : "") + "$" + formatCount(Int(whole)) + "." + (frac < 10 ? "0" : "") + String(frac)
    }

    static func count(_ n: Int64) -> String { formatCount(Int(n)) }

    static func percent(_ x: Double, digits: Int = 1) -> String {
        let p = x * 100
        var s = String(Int64((abs(p) * pow10(digits)).rounded()))
        while s.count <= digits { s = "0" + s }
        if digits > 0 { s.insert(".", at: s.index(s.endIndex, offsetBy: -digits)) }
        return (p < 0 && s.contains(where: { $0 != "0" && $0 != "." }) ? "-" : "") + s + "%"
    }

    static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { a, _ in a * 10 } }

    /// "+12.3% vs previous" or "no spend before".
    static func change(_ now: Double, _ before: Double, _ what: String) -> String {
        guard before != 0 else { return now == 0 ? "same as \(what)" : "nothing in \(what)" }
        let r = (now - before) / before
        return (r >= 0 ? "+" : "") + percent(r) + " vs \(what)"
    }

    static func ms(_ d: Double?) -> String { d.map { formatCount(Int($0.rounded())) + " ms" } ?? "–" }

    static func time(_ t: Int64) -> String {
        let s = Timestamp.format(t)
        return String(s.prefix(16)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }
}
