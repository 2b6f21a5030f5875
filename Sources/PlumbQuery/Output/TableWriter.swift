import PlumbCore

/// The table format, for people: a header, a rule, aligned columns with numbers right-aligned,
/// NULL shown as NULL, and (on a terminal) wide columns cut with "…" so a row fits the width.
final class TableWriter: ResultWriter {
    let width: Int?
    let out: (String) -> Void
    var header = QueryEngine.Header(names: [], types: [])
    var rows: [[String]] = []
    init(width: Int?, _ out: @escaping (String) -> Void) { self.width = width; self.out = out }

    func begin(_ h: QueryEngine.Header) { header = h }

    func write(_ b: Batch) {
        for r in 0..<b.count {
            rows.append(b.columns.map { v in
                (ValueText.plain(v.value(at: r)) ?? "NULL").map { $0 == "\n" || $0 == "\t" || $0 == "\r" ? " " : $0 }.reduce(into: "") { $0.append($1) }
            })
        }
    }

    func end() {
        if header.isPlan {
            out(rows.map { $0[0] + "\n" }.joined())
            return
        }
        let n = header.names.count
        guard n > 0 else { return }
        var widths = (0..<n).map { c in rows.reduce(DisplayWidth.of(header.names[c])) { max($0, DisplayWidth.of($1[c])) } }
        if let width {
            // Shrink the widest columns until the row (with 2-space gaps) fits.
            let gaps = 2 * (n - 1)
            while widths.reduce(0, +) + gaps > width, let i = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[i] > 8 {
                widths[i] -= 1
            }
        }
        let numeric = header.types.map { $0.isNumeric }
        func cell(_ s: String, _ c: Int) -> String {
            var t = s
            var w = DisplayWidth.of(t)
            if w > widths[c] {
                t = DisplayWidth.prefix(t, fitting: max(1, widths[c] - 1)) + "…"
                w = DisplayWidth.of(t)
            }
            let pad = String(repeating: " ", count: max(0, widths[c] - w))
            return numeric[c] ? pad + t : t + pad
        }
        func line(_ cells: [String]) -> String {
            var s = cells.enumerated().map { cell($1, $0) }.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s + "\n"
        }
        var text = line(header.names)
        text += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for r in rows { text += line(r) }
        text += "(\(rows.count) row\(rows.count == 1 ? "" : "s"))\n"
        out(text)
    }
}
