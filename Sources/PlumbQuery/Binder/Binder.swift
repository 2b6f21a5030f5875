import PlumbCore

/// Resolves a parsed query against the `spans` table: column names to scan positions, function
/// names to implementations, types checked and implicit casts added, aggregates split out of the
/// expressions that use them. Every error points at the part of the query it is about.
///
/// ```swift
/// let bound = try Binder(now: Timestamp.nowMicros()).bind(try Parser.parse(sql))
/// ```
public final class Binder {
    let now: Int64
    var scanColumns: [String] = []
    var scanIndex: [String: Int] = [:]
    /// False for a query without FROM: there are no columns to name.
    var hasFrom = true

    public init(now: Int64) { self.now = now }

    /// Where names resolve: straight to the scan, or (in a grouped query) to its keys and aggregates.
    enum Context {
        case scan(clause: String)
        case grouped(Grouping)
        case insideAggregate(String)
    }

    final class Grouping {
        let keyTexts: [String]
        let keyTypes: [SQLType]
        var aggregates: [AggregateSpec] = []
        init(keyTexts: [String], keyTypes: [SQLType]) { self.keyTexts = keyTexts; self.keyTypes = keyTypes }
    }

    static let tableColumns: [String] = SpanSchema.columns.map(\.name)

    func scanColumn(_ name: String) -> BoundExpr? {
        guard let i = SpanSchema.index(of: name) else { return nil }
        let type = SQLType(SpanSchema.columns[i].type)
        if let k = scanIndex[name] { return .column(k, type) }
        scanIndex[name] = scanColumns.count
        scanColumns.append(name)
        return .column(scanColumns.count - 1, type)
    }

    /// `properties['key']` as its own scan column (read without decoding whole maps).
    func scanMapKey(_ column: String, _ key: String) -> BoundExpr {
        let name = ScanName.mapKey(column, key)
        if let k = scanIndex[name] { return .column(k, .varchar) }
        scanIndex[name] = scanColumns.count
        scanColumns.append(name)
        return .column(scanColumns.count - 1, .varchar)
    }

    func unknownColumn(_ name: String, at: Int) -> QueryError {
        let hint = NameHints.closest(name, among: Self.tableColumns).map { "did you mean \"\($0)\"?" }
            ?? "the columns of spans are: \(Self.tableColumns.joined(separator: ", "))"
        return QueryError("unknown column \"\(name)\"", at: at, hint: hint)
    }

    // MARK: expressions

    /// Binds `e`; an expression of constants only (`now() - INTERVAL '1 day'`) is computed now, so
    /// zone maps can use it and it is not recomputed per row.
    func bind(_ e: Expr, _ ctx: Context) throws -> BoundExpr {
        let b = try bindExpr(e, ctx)
        switch b {
        case .constant, .column: return b
        default:
            guard b.columnsRead.isEmpty else { return b }
            do {
                let v = try Evaluator.evaluate(b, Batch(columns: [], count: 1))
                return .constant(v.value(at: 0), b.type)
            } catch let err as QueryError {
                throw QueryError(err.message, at: e.offset, hint: err.hint)
            }
        }
    }

    func bindExpr(_ e: Expr, _ ctx: Context) throws -> BoundExpr {
        if case .grouped(let g) = ctx, let k = g.keyTexts.firstIndex(of: e.text) {
            return .column(k, g.keyTypes[k])
        }
        switch e {
        case .column(let name, let at):
            if ["current_timestamp", "now"].contains(name) && SpanSchema.index(of: name) == nil { return .constant(.timestamp(now), .timestamp) }
            switch ctx {
            case .scan, .insideAggregate:
                guard hasFrom || SpanSchema.index(of: name) == nil else {
                    throw QueryError("column \"\(name)\" needs FROM spans", at: at)
                }
                guard let c = scanColumn(name) else { throw unknownColumn(name, at: at) }
                return c
            case .grouped:
                guard SpanSchema.index(of: name) != nil else { throw unknownColumn(name, at: at) }
                throw QueryError("column \"\(name)\" must appear in the GROUP BY clause or be used in an aggregate function", at: at)
            }
        case .star(let at):
            throw QueryError("* is only allowed on its own in the SELECT list or in count(*)", at: at)
        case .literal(let l, let at): return try literal(l, at: at)
        case .unary(let op, let x, let at):
            let v = try bind(x, ctx)
            switch op {
            case .not: return .not(try coerce(v, to: .boolean, at: x.offset, what: "NOT"))
            case .plus:
                guard v.type.isNumeric || v.type == .null || v.type == .interval else { throw QueryError("cannot apply unary + to \(v.type)", at: at) }
                return v
            case .negate:
                guard v.type.isNumeric || v.type == .null || v.type == .interval else { throw QueryError("cannot negate \(v.type)", at: at) }
                if case .constant(.int(let i), _) = v, i != .min { return .constant(.int(-i), .bigint) }
                if case .constant(.double(let d), _) = v { return .constant(.double(-d), .double) }
                return .negate(v)
            }
        case .binary(let op, let l, let r, let at): return try binary(op, l, r, at: at, ctx)
        case .function(let name, let args, let distinct, let star, let at):
            return try function(name, args, distinct: distinct, star: star, at: at, text: e.text, ctx)
        case .isNull(let x, let negated, _): return .isNull(try bind(x, ctx), negated: negated)
        case .inList(let x, let list, let negated, let at):
            var v = try bind(x, ctx)
            var items = try list.map { try bind($0, ctx) }
            var t = v.type
            for (k, item) in items.enumerated() { t = try commonType(t, item.type, at: list[k].offset, what: "IN", v, item) }
            v = try coerce(v, to: t, at: x.offset, what: "IN")
            items = try items.enumerated().map { try coerce($0.element, to: t, at: list[$0.offset].offset, what: "IN") }
            _ = at
            return .inList(v, items, negated: negated)
        case .between(let x, let lo, let hi, let negated, let at):
            let ge = try binary(.greaterEqual, x, lo, at: at, ctx), le = try binary(.lessEqual, x, hi, at: at, ctx)
            let both = BoundExpr.and(ge, le)
            return negated ? .not(both) : both
        case .like(let x, let p, let ci, let negated, _):
            let v = try coerce(try bind(x, ctx), to: .varchar, at: x.offset, what: ci ? "ILIKE" : "LIKE")
            let pat = try coerce(try bind(p, ctx), to: .varchar, at: p.offset, what: ci ? "ILIKE" : "LIKE")
            return .like(v, pattern: pat, caseInsensitive: ci, negated: negated)
        case .caseWhen(let operand, let branches, let otherwise, _):
            return try caseWhen(operand, branches, otherwise, ctx)
        case .cast(let x, let typeName, let at):
            guard let t = SQLType.named(typeName) else {
                throw QueryError("unknown type \"\(typeName.uppercased())\"", at: at,
                                 hint: "the types are BOOLEAN, BIGINT, DOUBLE, VARCHAR, TIMESTAMP, INTERVAL")
            }
            let v = try bind(x, ctx)
            if let c = v.constantValue {
                do { return .constant(try Cast.value(c, to: t, strict: true), t) } catch let err as QueryError {
                    throw QueryError(err.message, at: x.offset)
                }
            }
            return .cast(v, t)
        case .subscript_(let m, let key, let at):
            if case .column(let name, _) = m, SpanSchema.index(of: name).map({ SpanSchema.columns[$0].type == .map }) == true,
               case .literal(.string(let k), _) = key, hasFrom {
                switch ctx {
                case .scan, .insideAggregate: return scanMapKey(name, k)
                case .grouped: break            // falls through to the "must appear in GROUP BY" error
                }
            }
            let mv = try bind(m, ctx)
            guard mv.type == .map else { throw QueryError("cannot subscript a value of type \(mv.type) (only properties['key'])", at: at) }
            return .mapExtract(mv, key: try coerce(try bind(key, ctx), to: .varchar, at: key.offset, what: "a map key"))
        }
    }

    func literal(_ l: Literal, at: Int) throws -> BoundExpr {
        switch l {
        case .null: return .constant(.null, .null)
        case .bool(let b): return .constant(.bool(b), .boolean)
        case .integer(let i): return .constant(.int(i), .bigint)
        case .decimal(let d): return .constant(.double(d), .double)
        case .string(let s): return .constant(.string(s), .varchar)
        case .interval(let text):
            guard let i = IntervalParser.parse(text) else {
                throw QueryError("invalid interval '\(text)'", at: at, hint: "write e.g. INTERVAL '5 minutes', INTERVAL '1 day', INTERVAL '2 hours 30 minutes'")
            }
            return .constant(.interval(i), .interval)
        case .timestamp(let text):
            guard let t = try? Timestamp.parse(text) else {
                throw QueryError("invalid timestamp '\(text)'", at: at, hint: "write e.g. TIMESTAMP '2026-11-21 10:00:00'")
            }
            return .constant(.timestamp(t), .timestamp)
        }
    }
}
