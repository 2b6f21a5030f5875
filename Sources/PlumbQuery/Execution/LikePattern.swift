/// A compiled LIKE pattern: `%` matches any run of characters, `_` exactly one (a Unicode scalar,
/// as DuckDB counts characters). As in DuckDB, LIKE has no escape character: `\` is itself
/// (`'a\x' LIKE 'a\%'` is true); `escapes` makes `\` escape the next character, for patterns
/// Plumb builds itself (`contains`). ILIKE lower-cases both sides. Patterns that are a
/// plain prefix, suffix, substring or literal skip the general matcher.
///
/// ```swift
/// LikePattern("gpt-4%", caseInsensitive: false).matches("gpt-4o")   // true
/// ```
struct LikePattern: Sendable {
    enum Part: Sendable, Equatable { case literal([Unicode.Scalar]), any, one }
    enum Shape: Sendable { case exact(String), prefix(String), suffix(String), contains(String), general }

    let parts: [Part]
    let shape: Shape
    let caseInsensitive: Bool

    init(_ pattern: String, caseInsensitive: Bool, escapes: Bool = false) {
        self.caseInsensitive = caseInsensitive
        let p = caseInsensitive ? pattern.lowercased() : pattern
        var parts: [Part] = []
        var lit: [Unicode.Scalar] = []
        var escaped = false
        for s in p.unicodeScalars {
            if escaped { lit.append(s); escaped = false; continue }
            switch s {
            case "\\" where escapes: escaped = true
            case "%":
                if !lit.isEmpty { parts.append(.literal(lit)); lit = [] }
                if parts.last != .any { parts.append(.any) }
            case "_":
                if !lit.isEmpty { parts.append(.literal(lit)); lit = [] }
                parts.append(.one)
            default: lit.append(s)
            }
        }
        if escaped { lit.append("\\") }
        if !lit.isEmpty { parts.append(.literal(lit)) }
        self.parts = parts
        func text(_ l: [Unicode.Scalar]) -> String { String(String.UnicodeScalarView(l)) }
        switch parts.count {
        case 0: shape = .exact("")
        case 1: if case .literal(let l) = parts[0] { shape = .exact(text(l)) } else { shape = .general }
        case 2:
            if case .literal(let l) = parts[0], parts[1] == .any { shape = .prefix(text(l)) }
            else if parts[0] == .any, case .literal(let l) = parts[1] { shape = .suffix(text(l)) }
            else { shape = .general }
        case 3:
            if parts[0] == .any, case .literal(let l) = parts[1], parts[2] == .any { shape = .contains(text(l)) } else { shape = .general }
        default: shape = .general
        }
    }

    func matches(_ input: String) -> Bool {
        let s = caseInsensitive ? input.lowercased() : input
        switch shape {
        case .exact(let t): return s.utf8.elementsEqual(t.utf8)
        case .prefix(let t): return s.utf8.starts(with: t.utf8)
        case .suffix(let t): return s.utf8.count >= t.utf8.count && s.utf8.reversed().starts(with: t.utf8.reversed())
        case .contains(let t): return t.isEmpty || s.utf8.count >= t.utf8.count && containsBytes(Array(s.utf8), Array(t.utf8))
        case .general: return match(Array(s.unicodeScalars), 0, 0)
        }
    }

    private func containsBytes(_ h: [UInt8], _ n: [UInt8]) -> Bool {
        guard n.count <= h.count else { return false }
        for i in 0...(h.count - n.count) where h[i] == n[0] {
            var k = 1
            while k < n.count && h[i + k] == n[k] { k += 1 }
            if k == n.count { return true }
        }
        return false
    }

    /// Backtracking only at `%`, resuming from the last one (linear for typical patterns).
    private func match(_ s: [Unicode.Scalar], _ si0: Int, _ pi0: Int) -> Bool {
        var si = si0, pi = pi0
        var star: (pi: Int, si: Int)? = nil
        while true {
            if pi < parts.count {
                switch parts[pi] {
                case .any:
                    star = (pi, si); pi += 1; continue
                case .one:
                    if si < s.count { si += 1; pi += 1; continue }
                case .literal(let l):
                    if si + l.count <= s.count && s[si..<(si + l.count)].elementsEqual(l) { si += l.count; pi += 1; continue }
                }
            } else if si == s.count {
                return true
            }
            guard let st = star, st.si < s.count else { return false }
            star = (st.pi, st.si + 1)
            pi = st.pi + 1; si = st.si + 1
        }
    }
}
