/// Splits a query into tokens: identifiers (case-folded unless double-quoted), keywords, string
/// literals ('it''s'), numbers (12, 1.5, .5, 1e-3), operators, `--` and `/* */` comments.
///
/// ```swift
/// let tokens = try Lexer.tokens(of: "SELECT count(*) FROM spans")
/// ```
public enum Lexer {
    static let keywords: [String: Keyword] = Dictionary(uniqueKeysWithValues: Keyword.allCases.map { ($0.rawValue, $0) })
    static let twoCharSymbols: Set<String> = ["!=", "<>", "<=", ">=", "||", "::", "//"]
    static let oneCharSymbols: Set<UInt8> = Set("(),.;*+-/%=<>[]".utf8)

    public static func tokens(of text: String) throws -> [Token] {
        let b = Array(text.utf8)
        var out: [Token] = []
        var i = 0
        func isIdentStart(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F || c >= 0x80 }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            let start = i
            if c == 0x2D && i + 1 < b.count && b[i + 1] == 0x2D {              // -- comment
                while i < b.count && b[i] != 0x0A { i += 1 }
                continue
            }
            if c == 0x2F && i + 1 < b.count && b[i + 1] == 0x2A {              // /* comment */
                i += 2
                while i + 1 < b.count && !(b[i] == 0x2A && b[i + 1] == 0x2F) { i += 1 }
                guard i + 1 < b.count else { throw QueryError("unterminated /* comment", at: start) }
                i += 2
                continue
            }
            if isIdentStart(c) {
                while i < b.count && (isIdentStart(b[i]) || isDigit(b[i])) { i += 1 }
                let word = String(decoding: b[start..<i], as: UTF8.self).lowercased()
                out.append(Token(kind: keywords[word].map { .keyword($0) } ?? .identifier(word), offset: start, length: i - start))
                continue
            }
            if c == 0x22 || c == 0x27 {                                         // "identifier" or 'string'
                var bytes: [UInt8] = []
                i += 1
                var closed = false
                while i < b.count {
                    if b[i] == c {
                        if i + 1 < b.count && b[i + 1] == c { bytes.append(c); i += 2; continue }
                        i += 1; closed = true; break
                    }
                    bytes.append(b[i]); i += 1
                }
                guard closed else {
                    throw QueryError(c == 0x27 ? "unterminated string literal" : "unterminated quoted identifier", at: start)
                }
                let s = String(decoding: bytes, as: UTF8.self)
                if c == 0x22 && s.isEmpty { throw QueryError("empty quoted identifier", at: start) }
                out.append(Token(kind: c == 0x27 ? .string(s) : .quotedIdentifier(s), offset: start, length: i - start))
                continue
            }
            if isDigit(c) || (c == 0x2E && i + 1 < b.count && isDigit(b[i + 1])) {
                var isDecimal = false
                while i < b.count && isDigit(b[i]) { i += 1 }
                if i < b.count && b[i] == 0x2E { isDecimal = true; i += 1; while i < b.count && isDigit(b[i]) { i += 1 } }
                if i < b.count && (b[i] == 0x65 || b[i] == 0x45) {
                    var j = i + 1
                    if j < b.count && (b[j] == 0x2B || b[j] == 0x2D) { j += 1 }
                    if j < b.count && isDigit(b[j]) {
                        isDecimal = true
                        i = j
                        while i < b.count && isDigit(b[i]) { i += 1 }
                    }
                }
                if i < b.count && isIdentStart(b[i]) {
                    throw QueryError("malformed number \"\(String(decoding: b[start...i], as: UTF8.self))\"", at: start)
                }
                let s = String(decoding: b[start..<i], as: UTF8.self)
                out.append(Token(kind: isDecimal ? .decimal(s) : .integer(s), offset: start, length: i - start))
                continue
            }
            if i + 1 < b.count {
                let two = String(decoding: b[i...(i + 1)], as: UTF8.self)
                if twoCharSymbols.contains(two) {
                    out.append(Token(kind: .symbol(two), offset: start, length: 2)); i += 2; continue
                }
            }
            if oneCharSymbols.contains(c) {
                out.append(Token(kind: .symbol(String(UnicodeScalar(c))), offset: start, length: 1)); i += 1; continue
            }
            var end = i + 1
            while end < b.count && b[end] & 0xC0 == 0x80 { end += 1 }
            throw QueryError("unexpected character \"\(String(decoding: b[i..<end], as: UTF8.self))\"", at: start)
        }
        out.append(Token(kind: .end, offset: b.count, length: 0))
        return out
    }
}
