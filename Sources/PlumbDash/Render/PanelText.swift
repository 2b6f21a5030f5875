import PlumbCore
import PlumbQuery

/// Renders one panel's result as lines of at most `width` columns (plain text; the terminal UI
/// adds colour by `PanelText.level`).
public enum PanelText {
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let asciiBlocks: [Character] = ["_", ".", ":", "-", "=", "+", "*", "#"]

    /// A number as a dashboard shows it: integers with thousands separators, fractions with
    /// three significant digits, money with two decimals.
    public static func number(_ v: Value, unit: String) -> String {
        let money = unit == "$"
        var text: String
        switch v {
        case .null: return "–"
        case .int(let i): text = group(i)
        case .double(let d):
            if money { text = String(format2(d, 2)) }
            else if d.rounded() == d && abs(d) < 1e15 { text = group(Int64(d)) }
            else if abs(d) >= 100 { text = group(Int64(d.rounded())) }
            else { text = format2(d, abs(d) >= 10 ? 1 : (abs(d) >= 1 ? 2 : 3)) }
        default: text = ValueText.plain(v) ?? "–"
        }
        return money ? "$" + text : text + unit
    }

    static func format2(_ d: Double, _ digits: Int) -> String {
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (d * p).rounded() / p
        var s = NumberText.double(r)
        if s.hasSuffix(".0") && digits > 0 { s += String(repeating: "0", count: digits - 1) }
        else if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
        }
        return s
    }

    static func group(_ i: Int64) -> String {
        let digits = String(i.magnitude)
        var out = ""
        for (k, c) in digits.reversed().enumerated() {
            if k > 0 && k % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (i < 0 ? "-" : "") + String(out.reversed())
    }

    /// 0 fine, 1 warn, 2 crit (for colour).
    public static func level(_ v: Double?, warn: Double?, crit: Double?) -> Int {
        guard let v else { return 0 }
        if let crit, v >= crit { return 2 }
        if let warn, v >= warn { return 1 }
        return 0
    }

    static func fit(_ s: String, _ width: Int) -> String {
        let w = DisplayWidth.of(s)
        if w <= width { return s + String(repeating: " ", count: width - w) }
        let cut = DisplayWidth.prefix(s, fitting: max(0, width - 1)) + "…"
        return cut + String(repeating: " ", count: max(0, width - DisplayWidth.of(cut)))
    }

    /// The colour a value earns against the panel's thresholds (plain without thresholds).
    static func style(_ v: Double?, _ p: Dashboard.Panel, otherwise: Style = .plain) -> Style {
        guard p.warn != nil || p.crit != nil else { return otherwise }
        return [Style.ok, .warn, .crit][level(v, warn: p.warn, crit: p.crit)]
    }

    /// The result columns a panel shows (an incident's query is kept for drill-down, not shown).
    static func shown(_ p: Dashboard.Panel, _ r: QueryResult) -> [Int] {
        r.names.indices.filter { !(p.visual == .incidents && ["query", "ongoing"].contains(r.names[$0])) }
    }

    /// Lines the panel's result takes, and how many of them are rows a cursor can select;
    /// `firstRow` is the line of row 0 (tables have a header line).
    public static func firstRow(_ p: Dashboard.Panel) -> Int { p.visual == .table || p.visual == .incidents ? 1 : 0 }

    public static func selectable(_ p: Dashboard.Panel, _ r: QueryResult) -> Int {
        switch p.visual {
        case .stat, .sparkline: return 0
        case .bars: return min(r.rowCount, p.height)
        case .table, .incidents: return min(r.rowCount, max(0, p.height - 1))
        }
    }

    public static func lines(_ p: Dashboard.Panel, _ r: QueryResult, width: Int, unicode: Bool) -> [StyledLine] {
        let rows = r.rows
        switch p.visual {
        case .stat:
            let v = rows.first?.first ?? .null
            return [StyledLine(number(v, unit: p.unit), style(v.asDouble, p, otherwise: .heading))]
        case .sparkline:
            let values = rows.map { $0.last?.asDouble ?? 0 }
            guard let hi = values.max(), let lo = values.min() else { return [StyledLine("(no data)", .dim)] }
            let glyphs = unicode ? blocks : asciiBlocks
            let shown = values.suffix(max(1, width))
            let line = String(shown.map { v in glyphs[hi == lo ? (hi == 0 ? 0 : 7) : Int(((v - lo) / (hi - lo) * 7).rounded())] })
            let last = rows.last?.last ?? .null
            return [StyledLine(line, style(last.asDouble, p, otherwise: .bar)),
                    StyledLine(fit("min \(number(.double(lo), unit: p.unit))  max \(number(.double(hi), unit: p.unit))  last \(number(last, unit: p.unit))", width), .dim)]
        case .bars:
            guard !rows.isEmpty else { return [StyledLine("(no data)", .dim)] }
            let labels = rows.map { ValueText.plain($0.first ?? .null) ?? "NULL" }
            let values = rows.map { $0.last?.asDouble ?? 0 }
            let labelWidth = min(max(6, labels.map(DisplayWidth.of).max() ?? 0), width / 3)
            let numbers = rows.map { number($0.last ?? .null, unit: p.unit) }
            let numberWidth = numbers.map(\.count).max() ?? 0
            let barWidth = max(1, width - labelWidth - numberWidth - 2)
            let top = max(values.max() ?? 0, 1e-12)
            return zip(zip(labels, values), numbers).prefix(p.height).map { lv, n in
                let filled = Int((max(0, lv.1) / top * Double(barWidth)).rounded())
                var line = StyledLine(fit(lv.0, labelWidth) + " ")
                line.append(String(repeating: unicode ? "█" : "#", count: filled), style(lv.1, p, otherwise: .bar))
                line.append(String(repeating: " ", count: barWidth - filled) + " " + String(repeating: " ", count: numberWidth - n.count) + n)
                return line
            }
        case .table, .incidents:
            return table(p, r, width: width)
        }
    }

    /// Rows as aligned columns, numbers right-aligned, cut to the width; a row is coloured by
    /// its `status` column (4xx warn, 5xx crit) and incidents by whether they are ongoing.
    static func table(_ p: Dashboard.Panel, _ r: QueryResult, width: Int, shortTimes: Bool = false) -> [StyledLine] {
        let cols = shown(p, r)
        let all = Array(r.rows.prefix(max(0, p.height - 1)))
        let rows = all.map { row in
            cols.map { k -> String in
                let v = row[k]
                if p.visual == .incidents, r.names[k] == "end", v == .null { return "ongoing" }
                if shortTimes, case .timestamp(let t) = v {
                    // "2026-10-30T23:50:36.682279Z" → "10-30 23:50:36.682": a list of spans needs the second, not the year.
                    let s = Timestamp.format(t)
                    return String(s.dropFirst(5).prefix(18)).replacingOccurrences(of: "T", with: " ")
                }
                switch v {
                case .int, .double: return number(v, unit: "")
                default: return ValueText.plain(v) ?? "NULL"
                }
            }
        }
        let names = cols.map { r.names[$0] }
        var widths = names.map(DisplayWidth.of)
        for row in rows { for (k, c) in row.enumerated() { widths[k] = max(widths[k], DisplayWidth.of(c)) } }
        while widths.reduce(0, +) + 2 * max(0, widths.count - 1) > width, let i = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[i] > 4 {
            widths[i] -= 1
        }
        func line(_ cells: [String], numeric: [Bool]) -> String {
            var parts: [String] = []
            for (k, c) in cells.enumerated() {
                if numeric[k], DisplayWidth.of(c) <= widths[k] {
                    parts.append(String(repeating: " ", count: widths[k] - DisplayWidth.of(c)) + c)
                } else { parts.append(fit(c, widths[k])) }
            }
            return fit(parts.joined(separator: "  "), width)
        }
        let numeric = cols.map { r.types[$0].isNumeric }
        let status = r.names.firstIndex(of: "status")
        let ongoing = r.names.firstIndex(of: "ongoing")
        var out = [StyledLine(line(names, numeric: numeric), .heading)]
        for (row, cells) in zip(all, rows) {
            var s = Style.plain
            if let status, let code = row[status].asDouble { s = code >= 500 ? .crit : (code >= 400 ? .warn : .plain) }
            if let ongoing { s = row[ongoing] == .bool(true) ? .crit : .warn }
            out.append(StyledLine(line(cells, numeric: numeric), s))
        }
        if rows.isEmpty { out.append(StyledLine("(none)", .dim)) }
        return out
    }
}
