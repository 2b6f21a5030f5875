/// A key press as the dashboard understands it (decoded from curses by `CursesScreen`).
public enum Key: Sendable, Equatable {
    case char(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case tab, backTab, enter, escape, backspace
    case resize
    /// Ctrl-C and friends arrive as signals, not keys; this is Ctrl-L (redraw).
    case redraw
}

extension Key {
    /// Keys from a string, for tests and scripted sessions: characters stand for themselves,
    /// `<Enter>`, `<Esc>`, `<Tab>`, `<S-Tab>`, `<Up>`, `<Down>`, `<Left>`, `<Right>`, `<BS>` for the others.
    ///
    /// ```swift
    /// Key.parse("/provider = 'openai'<Enter>")
    /// ```
    public static func parse(_ script: String) -> [Key] {
        let named: [String: Key] = ["Enter": .enter, "Esc": .escape, "Tab": .tab, "S-Tab": .backTab, "Up": .up,
                                    "Down": .down, "Left": .left, "Right": .right, "BS": .backspace,
                                    "PgUp": .pageUp, "PgDn": .pageDown]
        var keys: [Key] = []
        var rest = Substring(script)
        while let c = rest.first {
            if c == "<", let close = rest.firstIndex(of: ">"), let k = named[String(rest[rest.index(after: rest.startIndex)..<close])] {
                keys.append(k); rest = rest[rest.index(after: close)...]
            } else { keys.append(.char(c)); rest = rest.dropFirst() }
        }
        return keys
    }
}
