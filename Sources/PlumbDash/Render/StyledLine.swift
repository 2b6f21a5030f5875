import PlumbCore

/// What a piece of a frame means, for the terminal to colour (plain text ignores it).
public enum Style: Sendable, Equatable {
    case plain, heading, title, focused, selected, ok, warn, crit, dim, bar, status
}

/// One line of a frame as runs of text, each with its style.
///
/// ```swift
/// var line = StyledLine("p95 ", .heading)
/// line.append("812 ms", .warn)
/// line.text   // "p95 812 ms"
/// ```
public struct StyledLine: Sendable, Equatable {
    public struct Run: Sendable, Equatable {
        public var text: String
        public var style: Style
    }

    public var runs: [Run] = []

    public init() {}
    public init(_ text: String, _ style: Style = .plain) { runs = [Run(text: text, style: style)] }

    public var text: String { runs.map(\.text).joined() }

    public mutating func append(_ text: String, _ style: Style = .plain) {
        guard !text.isEmpty else { return }
        if let last = runs.last, last.style == style { runs[runs.count - 1].text += text } else { runs.append(Run(text: text, style: style)) }
    }

    public mutating func append(_ line: StyledLine) { for r in line.runs { append(r.text, r.style) } }

    /// The same text, every run in `style` (a selected row, a focused title).
    public func restyled(_ style: Style) -> StyledLine { StyledLine(text, style) }

    /// Cut or padded to exactly `width` columns (a cut ends in "…").
    public func fitted(_ width: Int) -> StyledLine {
        let total = DisplayWidth.of(text)
        guard total > width else {
            var out = self
            out.append(String(repeating: " ", count: width - total))
            return out
        }
        var out = StyledLine()
        var used = 0
        let budget = max(0, width - 1)
        for r in runs {
            let w = DisplayWidth.of(r.text)
            if used + w <= budget { out.append(r.text, r.style); used += w; continue }
            let cut = DisplayWidth.prefix(r.text, fitting: budget - used)
            out.append(cut + "…", r.style)
            used += DisplayWidth.of(cut) + 1
            break
        }
        if used < width { out.append(String(repeating: " ", count: width - used)) }
        return out
    }
}
