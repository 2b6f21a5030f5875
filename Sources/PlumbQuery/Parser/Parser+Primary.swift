/// Primary expressions: literals, typed literals (INTERVAL, TIMESTAMP), CAST, CASE, parentheses,
/// function calls and column references.
extension Parser {
    mutating func primary() throws -> Expr {
        let t = current
        let at = t.offset
        switch t.kind {
        case .integer(let digits):
            advance()
            if let v = Int64(digits) { return .literal(.integer(v), at: at) }
            return .literal(.decimal(Double(digits)!), at: at)       // DuckDB widens too; we go to DOUBLE
        case .decimal(let digits):
            advance()
            return .literal(.decimal(Double(digits)!), at: at)
        case .string(let s):
            advance()
            return .literal(.string(s), at: at)
        case .keyword(.null): advance(); return .literal(.null, at: at)
        case .keyword(.true): advance(); return .literal(.bool(true), at: at)
        case .keyword(.false): advance(); return .literal(.bool(false), at: at)
        case .keyword(.interval):
            advance()
            return .literal(.interval(try intervalText()), at: at)
        case .keyword(.cast):
            advance()
            try expectSymbol("(", " after CAST")
            let e = try expression()
            try expect(.as, " in CAST(... AS type)")
            let typeAt = current.offset
            let type = try typeName()
            try expectSymbol(")", " to close CAST")
            return .cast(e, type: type, at: typeAt)
        case .keyword(.case):
            advance()
            return try caseExpr(at: at)
        case .symbol("("):
            advance()
            if isKeyword(.select) { throw QueryError("subqueries are not supported", at: current.offset) }
            let e = try expression()
            try expectSymbol(")", " to close the parenthesis")
            return e
        case .identifier(let name), .quotedIdentifier(let name):
            advance()
            let quoted: Bool
            if case .quotedIdentifier = t.kind { quoted = true } else { quoted = false }
            if !quoted, case .string(let s) = current.kind, ["timestamp", "date", "timestamptz"].contains(name) {
                advance()
                return .literal(.timestamp(s), at: at)
            }
            if isSymbol("(") { return try functionCall(name, at: at) }
            if acceptSymbol(".") {                                   // spans.model: drop the qualifier
                if isSymbol("*") { advance(); return .star(at: at) }
                guard let column = identifier() else { throw unexpected("expected a column name after \"\(name).\"") }
                return .column(name: column, at: at)
            }
            return .column(name: name, at: at)
        case .end:
            throw QueryError("expected an expression, but the query ended", at: at)
        default:
            throw QueryError("expected an expression, found \(t.shown)", at: at)
        }
    }

    /// `INTERVAL '5 minutes'`, `INTERVAL '5' MINUTE`, `INTERVAL 5 MINUTES`: the text "5 minutes".
    mutating func intervalText() throws -> String {
        var text: String
        switch current.kind {
        case .string(let s): text = s
        case .integer(let s), .decimal(let s): text = s
        default: throw unexpected("expected a quoted interval such as '5 minutes' after INTERVAL")
        }
        advance()
        if case .identifier(let unit) = current.kind, IntervalParser.unit(unit) != nil {
            advance()
            text += " " + unit
        }
        return text
    }

    mutating func caseExpr(at: Int) throws -> Expr {
        var operand: Expr? = nil
        if !isKeyword(.when) { operand = try expression() }
        var branches: [(Expr, Expr)] = []
        while accept(.when) {
            let w = try expression()
            try expect(.then, " after CASE ... WHEN ...")
            branches.append((w, try expression()))
        }
        guard !branches.isEmpty else { throw unexpected("expected WHEN in CASE") }
        let otherwise = accept(.else) ? try expression() : nil
        try expect(.end, " to close CASE")
        return .caseWhen(operand: operand, branches: branches, otherwise: otherwise, at: at)
    }

    mutating func functionCall(_ name: String, at: Int) throws -> Expr {
        try expectSymbol("(")
        if acceptSymbol("*") {
            try expectSymbol(")", " after \(name)(*")
            return .function(name: name, args: [], distinct: false, star: true, at: at)
        }
        if acceptSymbol(")") { return .function(name: name, args: [], distinct: false, star: false, at: at) }
        let distinct = accept(.distinct)
        if !distinct { _ = accept(.all) }
        var args: [Expr] = []
        repeat { args.append(try expression()) } while acceptSymbol(",")
        try expectSymbol(")", " to close the arguments of \(name)")
        return .function(name: name, args: args, distinct: distinct, star: false, at: at)
    }
}
