import PlumbCore

/// The digest's output formats.
public enum DigestFormat: String, Sendable, CaseIterable {
    case text, markdown, html, json

    public func render(_ d: Digest) -> String {
        switch self {
        case .text: return DigestText.render(DigestDocument(d))
        case .markdown: return DigestMarkdown.render(DigestDocument(d))
        case .html: return DigestHTML.render(DigestDocument(d))
        case .json: return DigestJSON.render(d)
        }
    }
}

/// For a terminal: aligned tables, with a bar of block characters after each breakdown row.
enum DigestText {
    static func render(_ doc: DigestDocument) -> String {
        var out = [doc.title, doc.subtitle]
        for s in doc.sections {
            out.append("")
            out.append(s.title)
            out.append(String(repeating: "─", count: DisplayWidth.of(s.title)))
            for b in s.blocks {
                switch b {
                case .note(let n): out.append(n)
                case .figures(let f):
                    let w = f.map { DisplayWidth.of($0.label) }.max() ?? 0
                    let vw = f.map { DisplayWidth.of($0.value) }.max() ?? 0
                    for x in f {
                        out.append(pad(x.label, w) + "  " + (x.note.map { pad(x.value, vw) + "   " + $0 } ?? x.value))
                    }
                case .table(let t): out += table(t)
                }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, w - DisplayWidth.of(s)))
        return right ? fill + s : s + fill
    }

    static func table(_ t: DigestDocument.Table) -> [String] {
        var widths = t.headers.map(DisplayWidth.of)
        for r in t.rows { for (k, c) in r.enumerated() { widths[k] = max(widths[k], DisplayWidth.of(c)) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { k, c in pad(c, widths[k], right: t.numeric.contains(k)) }.joined(separator: "  ")
        }
        var out = [line(t.headers)]
        for (i, r) in t.rows.enumerated() {
            var l = line(r)
            if let bars = t.bars { l += "  " + String(repeating: "█", count: Int((bars[i] * 20).rounded())) }
            out.append(l)
        }
        return out.map { $0.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) }
    }
}

/// Markdown (GitHub-flavoured tables), for chat tools and wikis.
enum DigestMarkdown {
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\`*_[]|<>#".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    static func render(_ doc: DigestDocument) -> String {
        var out = ["# " + escape(doc.title), "", "_" + escape(doc.subtitle) + "_"]
        for s in doc.sections {
            out += ["", "## " + escape(s.title), ""]
            for b in s.blocks {
                switch b {
                case .note(let n): out += [escape(n), ""]
                case .figures(let f):
                    out += f.map { "- **\(escape($0.label))**: \(escape($0.value))" + ($0.note.map { " (\(escape($0)))" } ?? "") }
                    out.append("")
                case .table(let t):
                    out.append("| " + t.headers.map(escape).joined(separator: " | ") + " |")
                    out.append("|" + t.headers.indices.map { t.numeric.contains($0) ? "---:|" : "---|" }.joined())
                    out += t.rows.map { "| " + $0.map(escape).joined(separator: " | ") + " |" }
                    out.append("")
                }
            }
        }
        while out.last == "" { out.removeLast() }
        return out.joined(separator: "\n") + "\n"
    }
}
