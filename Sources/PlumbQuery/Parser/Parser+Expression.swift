/// Expressions, loosest binding first: OR, AND, NOT, comparison (= <> < IS IN BETWEEN LIKE),
/// `||`, + -, * / // %, unary minus, postfix (`::type`, `[key]`), primary.
extension Parser {
    mutating func expression() throws -> Expr {
        try enter()
        defer { depth -= 1 }
        return try orExpr()
    }

    mutating func orExpr() throws -> Expr {
        var e = try andExpr()
        let entered = depth
        defer { depth = entered }
        while isKeyword(.or) {
            try enter()
            let at = current.offset
            advance()
            e = .binary(op: .or, e, try andExpr(), at: at)
        }
        return e
    }

    mutating func andExpr() throws -> Expr {
        var e = try notExpr()
        let entered = depth
        defer { depth = entered }
        while isKeyword(.and) {
            try enter()
            let at = current.offset
            advance()
            e = .binary(op: .and, e, try notExpr(), at: at)
        }
        return e
    }

    mutating func notExpr() throws -> Expr {
        if isKeyword(.not) {
            let at = current.offset
            try enter()
            defer { depth -= 1 }
            advance()
            return .unary(op: .not, try notExpr(), at: at)
        }
        return try comparison()
    }

    static let comparisonSymbols: [String: BinaryOp] = [
        "=": .equal, "!=": .notEqual, "<>": .notEqual, "<": .less, "<=": .lessEqual, ">": .greater, ">=": .greaterEqual,
    ]

    mutating func comparison() throws -> Expr {
        let left = try concat()
        let at = current.offset
        if case .symbol(let s) = current.kind, let op = Self.comparisonSymbols[s] {
            advance()
            return .binary(op: op, left, try concat(), at: at)
        }
        if accept(.is) {
            let negated = accept(.not)
            try expect(.null, " after IS\(negated ? " NOT" : "")")
            return .isNull(left, negated: negated, at: at)
        }
        let negated = accept(.not)
        if accept(.in) {
            try expectSymbol("(", " after IN")
            var list: [Expr] = []
            repeat { list.append(try expression()) } while acceptSymbol(",")
            try expectSymbol(")", " to close the IN list")
            return .inList(left, list, negated: negated, at: at)
        }
        if accept(.between) {
            let low = try concat()
            try expect(.and, " in BETWEEN ... AND ...")
            return .between(left, low: low, high: try concat(), negated: negated, at: at)
        }
        if isKeyword(.like) || isKeyword(.ilike) {
            let ci = isKeyword(.ilike)
            advance()
            return .like(left, pattern: try concat(), caseInsensitive: ci, negated: negated, at: at)
        }
        if negated { throw unexpected("expected IN, BETWEEN, LIKE or ILIKE after NOT") }
        return left
    }

    mutating func concat() throws -> Expr {
        var e = try additive()
        let entered = depth
        defer { depth = entered }
        while isSymbol("||") {
            try enter()
            let at = current.offset
            advance()
            e = .binary(op: .concat, e, try additive(), at: at)
        }
        return e
    }

    mutating func additive() throws -> Expr {
        var e = try multiplicative()
        let entered = depth
        defer { depth = entered }
        while isSymbol("+") || isSymbol("-") {
            try enter()
            let at = current.offset
            let op: BinaryOp = isSymbol("+") ? .add : .subtract
            advance()
            e = .binary(op: op, e, try multiplicative(), at: at)
        }
        return e
    }

    mutating func multiplicative() throws -> Expr {
        var e = try unary()
        let entered = depth
        defer { depth = entered }
        while true {
            let at = current.offset
            let op: BinaryOp
            if isSymbol("*") { op = .multiply } else if isSymbol("/") { op = .divide } else if isSymbol("//") { op = .intDivide } else if isSymbol("%") { op = .modulo } else { return e }
            try enter()
            advance()
            e = .binary(op: op, e, try unary(), at: at)
        }
    }

    mutating func unary() throws -> Expr {
        let at = current.offset
        if acceptSymbol("-") {
            // Fold a negative literal so that -9223372036854775808 is representable.
            if case .integer(let digits) = current.kind, let v = Int64("-" + digits) {
                advance()
                return try postfix(.literal(.integer(v), at: at))
            }
            try enter()
            defer { depth -= 1 }
            return .unary(op: .negate, try unary(), at: at)
        }
        if acceptSymbol("+") {
            try enter()
            defer { depth -= 1 }
            return .unary(op: .plus, try unary(), at: at)
        }
        return try postfix(try primary())
    }

    mutating func postfix(_ base: Expr) throws -> Expr {
        var e = base
        let entered = depth
        defer { depth = entered }
        while true {
            let at = current.offset
            if isSymbol("::") || isSymbol("[") { try enter() }
            if acceptSymbol("::") {
                let typeAt = current.offset
                e = .cast(e, type: try typeName(), at: typeAt)
            } else if acceptSymbol("[") {
                let key = try expression()
                try expectSymbol("]", " to close the subscript")
                e = .subscript_(e, key: key, at: at)
            } else {
                return e
            }
        }
    }

    mutating func typeName() throws -> String {
        guard var name = identifier() else {
            if isKeyword(.interval) { advance(); return "interval" }
            throw unexpected("expected a type name")
        }
        if name == "double" { _ = acceptWord("precision") }
        if name == "timestamp" && acceptWord("with") {
            guard acceptWord("time"), acceptWord("zone") else { throw unexpected("expected TIME ZONE") }
            name = "timestamptz"
        }
        return name
    }
}
