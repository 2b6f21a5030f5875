/// A lexical token of the query text, with its byte range (for positional errors).
public struct Token: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case identifier(String)        // folded to lower case unless quoted
        case quotedIdentifier(String)
        case keyword(Keyword)
        case string(String)
        case integer(String)
        case decimal(String)
        case symbol(String)            // operators and punctuation: ( ) , . ; * + - / // % = != <> < <= > >= || :: [ ]
        case end
    }

    public var kind: Kind
    public var offset: Int
    public var length: Int

    /// What the token is, for messages ("near ...").
    public var shown: String {
        switch kind {
        case .identifier(let s), .quotedIdentifier(let s): "\"\(s)\""
        case .keyword(let k): k.rawValue.uppercased()
        case .string(let s): "'\(s)'"
        case .integer(let s), .decimal(let s): s
        case .symbol(let s): "\"\(s)\""
        case .end: "the end of the query"
        }
    }
}

/// Reserved words: they cannot be column names or aliases without double quotes. (ASC, DESC,
/// NULLS, FIRST, LAST are recognised by position and stay usable as names.)
public enum Keyword: String, Sendable, CaseIterable {
    case select, distinct, all, from, `where`, group, by, having, order
    case limit, offset, and, or, not, `in`, between, like, ilike, `is`, null, `true`, `false`
    case `case`, when, then, `else`, end, `as`, explain, interval, cast
}
