/// A self-contained HTML email: inline styles only (mail clients drop style sheets), tables for
/// layout, no scripts, no images (bars are coloured cells), UTF-8.
enum DigestHTML {
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static let font = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;"
    static let cell = "padding:4px 8px;border-bottom:1px solid #e5e7eb;font-size:13px;"

    static func render(_ doc: DigestDocument) -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>\(escape(doc.title))</title></head>
            <body style="margin:0;padding:16px;background:#f8fafc;color:#111827;\(font)">
            <table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:760px;margin:0 auto;background:#ffffff;border:1px solid #e5e7eb;">
            <tr><td style="padding:20px;">
            <h1 style="margin:0 0 4px 0;font-size:20px;\(font)">\(escape(doc.title))</h1>
            <p style="margin:0 0 12px 0;color:#6b7280;font-size:13px;">\(escape(doc.subtitle))</p>

            """
        for s in doc.sections {
            h += "<h2 style=\"margin:20px 0 8px 0;font-size:16px;\(font)\">\(escape(s.title))</h2>\n"
            for b in s.blocks {
                switch b {
                case .note(let n): h += "<p style=\"margin:4px 0;font-size:13px;\">\(escape(n))</p>\n"
                case .figures(let f):
                    h += "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse;\">\n"
                    for x in f {
                        h += "<tr><td style=\"\(cell)font-weight:bold;\">\(escape(x.label))</td><td style=\"\(cell)text-align:right;\">\(escape(x.value))</td>"
                        h += "<td style=\"\(cell)color:#6b7280;\">\(escape(x.note ?? ""))</td></tr>\n"
                    }
                    h += "</table>\n"
                case .table(let t): h += table(t)
                }
            }
        }
        h += "<p style=\"margin:20px 0 0 0;color:#9ca3af;font-size:11px;\">Sent by Plumb. Every figure is a query over the recorded spans.</p>\n"
        h += "</td></tr></table>\n</body></html>\n"
        return h
    }

    static func table(_ t: DigestDocument.Table) -> String {
        var h = "<table cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse;width:100%;\">\n<tr>"
        for (k, c) in t.headers.enumerated() {
            h += "<th style=\"\(cell)text-align:\(t.numeric.contains(k) ? "right" : "left");color:#374151;\">\(escape(c))</th>"
        }
        if t.bars != nil { h += "<th style=\"\(cell)\"></th>" }
        h += "</tr>\n"
        for (i, r) in t.rows.enumerated() {
            h += "<tr>"
            for (k, c) in r.enumerated() {
                h += "<td style=\"\(cell)text-align:\(t.numeric.contains(k) ? "right" : "left");\">\(escape(c))</td>"
            }
            if let bars = t.bars {
                let w = Int((bars[i] * 120).rounded())
                h += "<td style=\"\(cell)width:124px;\">"
                if w > 0 { h += "<div style=\"background:#3b82f6;height:10px;width:\(w)px;\"></div>" }
                h += "</td>"
            }
            h += "</tr>\n"
        }
        return h + "</table>\n"
    }
}
