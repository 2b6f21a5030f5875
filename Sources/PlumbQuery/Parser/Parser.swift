/// Recursive-descent parser for the query dialect (a subset of DuckDB's SELECT). Every error
/// names what was expected and points at the token where it went wrong.
///
/// ```swift
/// let stmt = try Parser.parse("SELECT model, sum(cost_usd) FROM spans GROUP BY model")
/// ```
public struct Parser {
    var tokens: [Token]
    var pos = 0
    /// How deeply the expression being parsed nests (parentheses, calls, NOT, unary signs, and
    /// each link of an operator chain): the parser, binder and evaluator recurse this deep.
    var depth = 0

    /// Past this, a query is refused rather than risk the thread's stack: every layer after the
    /// parser recurses over the expression tree (DuckDB's own default limit is 1000).
    public static let maxDepth = 250

    public static func parse(_ text: String) throws -> SelectStatement {
        var p = Parser(tokens: try Lexer.tokens(of: text))
        let stmt = try p.statement()
        return stmt
    }

    init(tokens: [Token]) { self.tokens = tokens }

    // MARK: token helpers

    var current: Token { tokens[pos] }

    mutating func advance() { if pos < tokens.count - 1 { pos += 1 } }

    func isKeyword(_ k: Keyword) -> Bool { current.kind == .keyword(k) }
    func isSymbol(_ s: String) -> Bool { current.kind == .symbol(s) }
    /// A non-reserved word (ASC, NULLS, ...) written as a plain identifier.
    func isWord(_ w: String) -> Bool { current.kind == .identifier(w) }

    mutating func accept(_ k: Keyword) -> Bool {
        if isKeyword(k) { advance(); return true }
        return false
    }

    mutating func acceptSymbol(_ s: String) -> Bool {
        if isSymbol(s) { advance(); return true }
        return false
    }

    mutating func acceptWord(_ w: String) -> Bool {
        if isWord(w) { advance(); return true }
        return false
    }

    mutating func expect(_ k: Keyword, _ context: String = "") throws {
        guard accept(k) else { throw unexpected("expected \(k.rawValue.uppercased())\(context)") }
    }

    mutating func expectSymbol(_ s: String, _ context: String = "") throws {
        guard acceptSymbol(s) else { throw unexpected("expected \"\(s)\"\(context)") }
    }

    /// One level deeper; refused past `maxDepth` with the position where it went too deep.
    mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else {
            throw QueryError("expression nested too deeply (more than \(Self.maxDepth) levels)", at: current.offset,
                             hint: "write long lists with IN (...) rather than chains of OR, and drop redundant parentheses")
        }
    }

    func unexpected(_ what: String) -> QueryError {
        if case .end = current.kind { return QueryError("\(what), but the query ended", at: current.offset) }
        return QueryError("\(what), found \(current.shown)", at: current.offset)
    }

    // MARK: statement

    mutating func statement() throws -> SelectStatement {
        let explain = accept(.explain)
        guard isKeyword(.select) else {
            if case .end = current.kind { throw QueryError("empty query: expected SELECT", at: current.offset) }
            throw QueryError("expected SELECT, found \(current.shown) (only SELECT queries over spans are supported)", at: current.offset)
        }
        var s = try select()
        s.explain = explain
        let sawSemicolon = acceptSymbol(";")
        while acceptSymbol(";") {}
        guard case .end = current.kind else {
            if sawSemicolon { throw QueryError("only one statement is allowed", at: current.offset) }
            throw unexpected("expected the end of the query")
        }
        return s
    }

    mutating func select() throws -> SelectStatement {
        try expect(.select)
        var s = SelectStatement()
        if accept(.distinct) { s.distinct = true } else { _ = accept(.all) }
        repeat { s.items.append(try selectItem()) } while acceptSymbol(",")
        if accept(.from) {
            let at = current.offset
            guard let name = identifier() else { throw unexpected("expected a table name after FROM") }
            s.from = (name, at)
            if accept(.as) {
                guard identifier() != nil else { throw unexpected("expected an alias after AS") }
            } else { _ = identifier() }
        }
        if accept(.where) { s.filter = try expression() }
        if accept(.group) {
            try expect(.by, " after GROUP")
            if accept(.all) { s.groupByAll = true } else {
                repeat { s.groupBy.append(try expression()) } while acceptSymbol(",")
            }
        }
        if accept(.having) { s.having = try expression() }
        if accept(.order) {
            try expect(.by, " after ORDER")
            repeat { s.orderBy.append(try orderItem()) } while acceptSymbol(",")
        }
        // LIMIT and OFFSET in either order, each at most once.
        while isKeyword(.limit) || isKeyword(.offset) {
            let isLimit = isKeyword(.limit)
            let at = current.offset
            if (isLimit ? s.limit : s.offset) != nil { throw QueryError("\(isLimit ? "LIMIT" : "OFFSET") given twice", at: at) }
            advance()
            let n = try count(isLimit ? "LIMIT" : "OFFSET")
            if isLimit { s.limit = (n, at) } else { s.offset = (n, at) }
        }
        return s
    }

    mutating func count(_ clause: String) throws -> Int64 {
        guard case .integer(let digits) = current.kind else { throw unexpected("expected a non-negative whole number after \(clause)") }
        guard let n = Int64(digits) else { throw QueryError("\(clause) \(digits) is too large", at: current.offset) }
        advance()
        return n
    }

    mutating func selectItem() throws -> SelectItem {
        if isSymbol("*") {
            let at = current.offset
            advance()
            return SelectItem(expr: .star(at: at), alias: nil)
        }
        let e = try expression()
        if accept(.as) {
            guard let a = identifier() ?? stringAlias() else { throw unexpected("expected a column alias after AS") }
            return SelectItem(expr: e, alias: a)
        }
        return SelectItem(expr: e, alias: identifier())
    }

    mutating func stringAlias() -> String? {
        if case .string(let s) = current.kind { advance(); return s }
        return nil
    }

    /// An identifier, plain (case-folded) or quoted; nil (consuming nothing) when there is none.
    mutating func identifier() -> String? {
        switch current.kind {
        case .identifier(let s), .quotedIdentifier(let s): advance(); return s
        default: return nil
        }
    }

    mutating func orderItem() throws -> OrderItem {
        let e = try expression()
        var desc = false
        if acceptWord("desc") { desc = true } else { _ = acceptWord("asc") }
        var nullsFirst: Bool? = nil
        if acceptWord("nulls") {
            if acceptWord("first") { nullsFirst = true } else if acceptWord("last") { nullsFirst = false } else {
                throw unexpected("expected FIRST or LAST after NULLS")
            }
        }
        return OrderItem(expr: e, descending: desc, nullsFirst: nullsFirst)
    }
}
