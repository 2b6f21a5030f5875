import PlumbCore

/// Turns a bound query into ClickHouse SQL that gives DuckDB's answer over the fleet store
/// (schemas/clickhouse.sql). The rules, each checked against DuckDB on the differential suite's
/// data, are listed in schemas/query-dialect.md ("Over ClickHouse"); the R-numbers below name
/// them. Every span is read once (`FINAL`: the table deduplicates by span id), aggregates over
/// no rows are NULL (`-OrNull`), NULL-aware rewrites keep DuckDB's three-valued logic, and
/// time arithmetic is DuckDB's calendar arithmetic.
///
/// ```swift
/// let sql = try ClickHouseTranslator(query: bound, table: "plumb.spans", bodiesTable: "plumb.span_bodies").sql()
/// ```
struct ClickHouseTranslator {
    let query: BoundQuery
    let table: String
    let bodiesTable: String
    /// Set while translating: the query reads a body column (R70: a join).
    private var needsBodies = false
    private var aliasCounter = 0

    init(query: BoundQuery, table: String, bodiesTable: String) {
        self.query = query; self.table = table; self.bodiesTable = bodiesTable
    }

    static let bodyColumns: Set<String> = ["request_body", "response_body"]

    /// How `.column(i)` is written: a scan column, or (after GROUP BY) a key or an aggregate.
    private enum Layout { case scan, grouped([String]) }

    mutating func sql() throws -> String {
        var q = query
        let scanLayout = Layout.scan
        var select: [String] = []
        var groupBy: [String] = []
        var having: String?
        var orderBy: [String] = []
        let filter = try q.filter.map { try expr($0, scanLayout) }
        var outputLayout = scanLayout
        if let agg = q.aggregate {
            groupBy = try agg.keys.map { try expr($0, scanLayout) }
            let aggregates = try agg.aggregates.map { try aggregate($0) }
            outputLayout = .grouped(groupBy + aggregates)
            having = try q.having.map { try expr($0, outputLayout) }
        }
        for (i, p) in q.projections.enumerated() {
            var text = try expr(p, outputLayout)
            if p.type == .boolean { text = "CAST(\(text) AS Nullable(Bool))" }        // R40
            select.append("\(text) AS _c\(i)")
        }
        for k in q.order {
            let text = try expr(k.expr, outputLayout)
            let dir = k.descending ? "DESC" : "ASC", nulls = k.nullsFirst ? "NULLS FIRST" : "NULLS LAST"
            if k.expr.type == .double { orderBy.append("isNaN(\(text)) \(dir) \(nulls)") }     // R61: NaN above every number
            orderBy.append("\(text) \(dir) \(nulls)")
        }
        var sql = "SELECT " + (q.distinct ? "DISTINCT " : "") + (select.isEmpty ? "1" : select.joined(separator: ", "))
        if q.hasFrom {
            sql += " FROM \(table) AS spans FINAL"                                       // R1
            if needsBodies {
                sql += " LEFT JOIN (SELECT span_id, request_body, response_body FROM \(bodiesTable) FINAL) AS bodies ON bodies.span_id = spans.span_id"
            }
        }
        if let filter { sql += " WHERE \(filter)" }
        if q.aggregate != nil && !groupBy.isEmpty { sql += " GROUP BY " + groupBy.joined(separator: ", ") }
        if let having { sql += " HAVING \(having)" }
        if !orderBy.isEmpty { sql += " ORDER BY " + orderBy.joined(separator: ", ") }
        if let limit = q.limit { sql += " LIMIT \(max(0, limit))" }
        if q.offset > 0 { sql += (q.limit == nil ? " LIMIT 18446744073709551615" : "") + " OFFSET \(q.offset)" }
        q.explain = false
        return sql
    }

    // MARK: Expressions

    private mutating func column(_ i: Int, _ layout: Layout) throws -> String {
        switch layout {
        case .scan:
            let name = query.scanColumns[i]
            if Self.bodyColumns.contains(name) { needsBodies = true; return "bodies.\(name)" }
            if let (map, key) = ScanName.parseMapKey(name) {
                // One key of a map, scanned as a column of its own: NULL when absent (R10).
                let m = "spans.\(map)", k = Self.quote(key)
                return "if(mapContains(\(m), \(k)), \(m)[\(k)], NULL)"
            }
            return "spans.\(name)"
        case .grouped(let outputs):
            guard i < outputs.count else { throw QueryError("internal: output column \(i) out of range") }
            return outputs[i]
        }
    }

    private mutating func expr(_ e: BoundExpr, _ layout: Layout) throws -> String {
        switch e {
        case .column(let i, _): return try column(i, layout)
        case .constant(let v, let t): return try Self.literal(v, t)
        case .negate(let a): return "(-\(try expr(a, layout)))"
        case .not(let a): return "(NOT \(try expr(a, layout)))"
        case .and(let a, let b): return "(\(try expr(a, layout)) AND \(try expr(b, layout)))"
        case .or(let a, let b): return "(\(try expr(a, layout)) OR \(try expr(b, layout)))"
        case .isNull(let a, let negated): return "\(negated ? "isNotNull" : "isNull")(\(try expr(a, layout)))"
        case .compare(let op, let a, let b):
            if a.type == .interval || b.type == .interval {
                // R27: intervals compare as DuckDB normalises them (30-day months, 24-hour days).
                return "(\(try intervalMicros(a, layout)) \(op.rawValue) \(try intervalMicros(b, layout)))"
            }
            return "(\(try expr(a, layout)) \(op.rawValue) \(try expr(b, layout)))"
        case .arithmetic(let op, let a, let b, let t): return try arithmetic(op, a, b, t, layout)
        case .inList(let x, let list, let negated): return try inList(x, list, negated, layout)
        case .like(let x, let pattern, let ci, let negated):
            // R35: DuckDB has no default escape character; ClickHouse treats \ as one.
            let p: String
            if case .constant(.string(let s), _) = pattern {
                p = Self.quote(s.replacingOccurrences(of: "\\", with: "\\\\"))
            } else {
                p = "replaceAll(\(try expr(pattern, layout)), '\\\\', '\\\\\\\\')"
            }
            return "(\(try expr(x, layout)) \(negated ? "NOT " : "")\(ci ? "ILIKE" : "LIKE") \(p))"
        case .caseWhen(let branches, let otherwise, _):
            var parts: [String] = []
            for (c, r) in branches { parts += [try expr(c, layout), try expr(r, layout)] }
            parts.append(try otherwise.map { try expr($0, layout) } ?? "NULL")
            return "multiIf(\(parts.joined(separator: ", ")))"                          // R36
        case .cast(let a, let t): return try cast(a, to: t, layout)
        case .function(let f, let args, let t): return try function(f, args, t, layout)
        case .mapExtract(let m, let key):
            let mm = try expr(m, layout), k = try expr(key, layout)
            return "if(mapContains(\(mm), \(k)), \(mm)[\(k)], NULL)"                   // R10
        }
    }

    private mutating func intervalMicros(_ e: BoundExpr, _ layout: Layout) throws -> String {
        if case .constant(.interval(let i), _) = e { return String(Int64(i.normalizedMicros)) }
        return try expr(e, layout)
    }

    private mutating func arithmetic(_ op: BinaryOp, _ a: BoundExpr, _ b: BoundExpr, _ t: SQLType, _ layout: Layout) throws -> String {
        // R26: timestamp ± interval, DuckDB's order: months, then days, then microseconds.
        if a.type == .timestamp, case .constant(.interval(var i), _) = b, op == .add || op == .subtract {
            if op == .subtract { i = i.negated }
            var s = try expr(a, layout)
            if i.months != 0 { s = "addMonths(\(s), \(i.months))" }
            if i.days != 0 { s = "addDays(\(s), \(i.days))" }
            if i.micros != 0 { s = "addMicroseconds(\(s), \(i.micros))" }
            return s
        }
        if a.type == .timestamp && b.type == .timestamp && op == .subtract {
            // R27: the difference in microseconds (read back as an interval).
            return "(toUnixTimestamp64Micro(\(try expr(a, layout))) - toUnixTimestamp64Micro(\(try expr(b, layout))))"
        }
        let x = try expr(a, layout), y = try expr(b, layout)
        switch op {
        case .concat: return "concat(\(x), \(y))"                                       // R34
        case .intDivide: return t == .bigint ? "intDiv(\(x), \(y))" : "(\(x) / \(y))"  // R32
        case .divide: return "(toFloat64(\(x)) / \(y))"
        default: return "(\(x) \(op.rawValue) \(y))"
        }
    }

    private mutating func inList(_ x: BoundExpr, _ list: [BoundExpr], _ negated: Bool, _ layout: Layout) throws -> String {
        let xs = try expr(x, layout)
        let hasNull = list.contains { if case .constant(.null, _) = $0 { return true }; return false }
        let items = try list.filter { if case .constant(.null, _) = $0 { return false }; return true }.map { try expr($0, layout) }
        let allConstant = list.allSatisfy { $0.constantValue != nil }
        let test: String
        if items.isEmpty { test = "0" }
        else if allConstant { test = "(\(xs) IN (\(items.joined(separator: ", "))))" }
        else { test = "(" + items.map { "\(xs) = \($0)" }.joined(separator: " OR ") + ")" }
        if hasNull {
            // R13: a NULL in the list makes a miss NULL, not false.
            return negated ? "if(\(test), false, NULL)" : "if(\(test), true, NULL)"
        }
        if items.isEmpty { return "CAST(if(isNull(\(xs)), NULL, \(negated ? "true" : "false")) AS Nullable(Bool))" }
        // A NULL operand is NULL in DuckDB (ClickHouse's IN says 0 without transform_null_in).
        return "if(isNull(\(xs)), NULL, \(negated ? "(NOT \(test))" : test))"
    }

    private mutating func cast(_ a: BoundExpr, to t: SQLType, _ layout: Layout) throws -> String {
        let x = try expr(a, layout)
        if a.type == t { return x }
        switch (a.type, t) {
        case (_, .varchar): return "toString(\(x))"
        case (.boolean, .bigint): return "toInt64(\(x))"
        case (.double, .bigint): return "accurateCast(roundBankers(\(x)), 'Int64')"   // R38
        case (_, .bigint): return "toInt64(\(x))"
        case (_, .double): return "toFloat64(\(x))"
        case (.varchar, .timestamp): return "parseDateTime64BestEffort(\(x), 6, 'UTC')"
        case (_, .timestamp): return "toDateTime64(\(x), 6, 'UTC')"
        case (.bigint, .boolean), (.double, .boolean): return "(\(x) != 0)"
        case (.varchar, .boolean): return "toBool(\(x))"
        case (.null, _): return "NULL"
        default: throw QueryError("CAST from \(a.type) to \(t) is not available over ClickHouse")
        }
    }

    /// R31: DuckDB's round (half away from zero); ClickHouse's rounds half to even.
    static func roundHalfAway(_ x: String) -> String {
        "if(\(x) >= 0, if(\(x) - floor(\(x)) >= 0.5, ceil(\(x)), floor(\(x))), if(ceil(\(x)) - \(x) >= 0.5, floor(\(x)), ceil(\(x))))"
    }

    private mutating func function(_ f: ScalarFunction, _ args: [BoundExpr], _ t: SQLType, _ layout: Layout) throws -> String {
        let a = try args.map { try expr($0, layout) }
        switch f {
        case .coalesce: return "coalesce(\(a.joined(separator: ", ")))"
        case .nullif: return "nullIf(\(a[0]), \(a[1]))"
        case .abs: return "abs(\(a[0]))"
        case .round:
            var digits: Int64 = 0
            if args.count > 1 {
                guard case .constant(.int(let d), _) = args[1] else { throw QueryError("round: over ClickHouse the digits must be a constant") }
                digits = d
            }
            if args[0].type == .bigint {
                guard digits < 0 else { return a[0] }
                guard digits > -19 else { return "if(isNull(\(a[0])), NULL, toInt64(0))" }
                let p = Int64(pow10(Int(-digits)))
                return "toInt64(\(Self.roundHalfAway("(\(a[0]) / \(p))"))) * \(p)"
            }
            if digits == 0 { return Self.roundHalfAway(a[0]) }
            let p = "1e\(digits)"
            return "(\(Self.roundHalfAway("(\(a[0]) * \(p))")) / \(p))"
        case .floor, .ceil: return args[0].type == .bigint ? a[0] : "\(f.rawValue)(\(a[0]))"
        case .lower: return "lowerUTF8(\(a[0]))"                                         // R37
        case .upper: return "upperUTF8(\(a[0]))"
        case .length: return "toInt64(lengthUTF8(\(a[0])))"
        case .concat:                                                                     // R34: NULLs skipped
            return "concat(" + zip(args, a).map { arg, s in "ifNull(\(arg.type == .varchar ? s : "toString(\(s))"), '')" }.joined(separator: ", ") + ")"
        case .contains: return "(position(\(a[0]), \(a[1])) > 0)"
        case .startsWith: return "startsWith(\(a[0]), \(a[1]))"
        case .greatest, .least:                                                           // R33
            guard a.count > 1 else { return a[0] }
            let coalesced = a.indices.map { i in "coalesce(\(([a[i]] + a.indices.filter { $0 != i }.map { a[$0] }).joined(separator: ", ")))" }
            return "\(f.rawValue)(\(coalesced.joined(separator: ", ")))"
        case .dateTrunc:
            guard case .constant(.string(let name), _) = args[0], let part = TimeMath.Part(name), part.truncates else {
                throw QueryError("date_trunc: over ClickHouse the part must be a constant date part")
            }
            return Self.dateTrunc(part, a[1])
        case .datePart:
            guard case .constant(.string(let name), _) = args[0], let part = TimeMath.Part(name) else {
                throw QueryError("date_part: over ClickHouse the part must be a constant date part")
            }
            return Self.datePart(part, a[1])
        case .timeBucket:
            guard case .constant(.interval(let w), _) = args[0] else { throw QueryError("time_bucket: over ClickHouse the width must be a constant interval") }
            var origin: String? = nil
            if args.count > 2 { origin = a[2] }
            return try Self.timeBucket(w, a[1], origin: origin)
        }
    }

    private func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 10 } }

    static func dateTrunc(_ part: TimeMath.Part, _ ts: String) -> String {       // R22
        let f: String
        switch part {
        case .microsecond: return ts
        case .millisecond: f = "toStartOfMillisecond(\(ts))"
        case .second: f = "toStartOfSecond(\(ts))"
        case .minute: f = "toStartOfMinute(\(ts))"
        case .hour: f = "toStartOfHour(\(ts))"
        case .day: f = "toStartOfDay(\(ts))"
        case .week: f = "toMonday(\(ts))"
        case .month: f = "toStartOfMonth(\(ts))"
        case .quarter: f = "toStartOfQuarter(\(ts))"
        case .year: f = "toStartOfYear(\(ts))"
        case .decade: f = "makeDate(intDiv(toYear(\(ts)), 10) * 10, 1, 1)"
        case .century: f = "makeDate(intDiv(toYear(\(ts)) - 1, 100) * 100 + 1, 1, 1)"
        case .millennium: f = "makeDate(intDiv(toYear(\(ts)) - 1, 1000) * 1000 + 1, 1, 1)"
        default: f = ts
        }
        return "toDateTime64(\(f), 6, 'UTC')"
    }

    static func datePart(_ part: TimeMath.Part, _ ts: String) -> String {        // R25
        let micros = "toUnixTimestamp64Micro(\(ts))"
        switch part {
        case .year: return "toInt64(toYear(\(ts)))"
        case .month: return "toInt64(toMonth(\(ts)))"
        case .day: return "toInt64(toDayOfMonth(\(ts)))"
        case .hour: return "toInt64(toHour(\(ts)))"
        case .minute: return "toInt64(toMinute(\(ts)))"
        case .second: return "toInt64(toSecond(\(ts)))"
        case .quarter: return "toInt64(toQuarter(\(ts)))"
        case .dayOfWeek: return "toInt64(toDayOfWeek(\(ts)) % 7)"
        case .isoDayOfWeek: return "toInt64(toDayOfWeek(\(ts)))"
        case .dayOfYear: return "toInt64(toDayOfYear(\(ts)))"
        case .week: return "toInt64(toISOWeek(\(ts)))"
        case .millisecond: return "toInt64(toSecond(\(ts)) * 1000 + intDiv(positiveModulo(\(micros), 1000000), 1000))"
        case .microsecond: return "toInt64(toSecond(\(ts)) * 1000000 + positiveModulo(\(micros), 1000000))"
        // Plumb's epoch is whole seconds (BIGINT), floored.
        case .epoch: return "toInt64(floor(\(micros) / 1000000))"
        case .decade: return "toInt64(intDiv(toYear(\(ts)), 10))"
        case .century: return "toInt64(intDiv(toYear(\(ts)) - 1, 100) + 1)"
        case .millennium: return "toInt64(intDiv(toYear(\(ts)) - 1, 1000) + 1)"
        }
    }

    static func timeBucket(_ w: Interval, _ ts: String, origin: String?) throws -> String {   // R23
        if w.months != 0 {
            guard w.days == 0, w.micros == 0, w.months > 0 else {
                throw QueryError("time_bucket: an interval mixing months with days or time is not supported")
            }
            let o = origin ?? "toDateTime64('2000-01-01 00:00:00.000000', 6, 'UTC')"
            let m = "((toYear(\(ts)) * 12 + toMonth(\(ts))) - (toYear(\(o)) * 12 + toMonth(\(o))))"
            let k = "(intDiv(\(m), \(w.months)) * \(w.months) - if(\(m) % \(w.months) < 0, \(w.months), 0))"
            return "toDateTime64(addMonths(toStartOfMonth(\(o)), \(k)), 6, 'UTC')"
        }
        let width = w.days &* 86_400_000_000 &+ w.micros
        guard width > 0 else { throw QueryError("time_bucket: the bucket width must be positive") }
        let originMicros = origin.map { "toUnixTimestamp64Micro(\($0))" } ?? "946857600000000"
        return "fromUnixTimestamp64Micro(toUnixTimestamp64Micro(\(ts)) - positiveModulo(toUnixTimestamp64Micro(\(ts)) - \(originMicros), \(width)), 'UTC')"
    }

    // MARK: Aggregates

    private mutating func aggregate(_ a: AggregateSpec) throws -> String {
        let x = try a.argument.map { try expr($0, .scan) } ?? ""
        let argType = a.argument?.type ?? .null
        let distinct = a.distinct ? "DISTINCT " : ""
        switch a.function {
        case .countStar: return "toInt64(count())"
        case .count: return "toInt64(count(\(distinct)\(x)))"
        case .countIf: return "toInt64(countIf(\(x)))"
        case .sum:
            if argType == .double { return a.distinct ? "sumOrNull(DISTINCT \(x))" : "sumKahanOrNull(\(x))" }   // R55
            return "toInt64(sumOrNull(\(distinct)toInt64(\(x))))"
        case .avg: return "avgOrNull(\(distinct)\(argType == .boolean ? "toInt64(\(x))" : x))"
        case .min: return "minOrNull(\(distinct)\(x))"
        case .max: return "maxOrNull(\(distinct)\(x))"
        case .anyValue: return "anyOrNull(\(x))"
        case .median, .quantileCont:
            let q = a.function == .median ? 0.5 : (a.fraction ?? 0.5)
            if argType == .timestamp { return quantileTimestamp(x, q) }
            return "quantileExactInclusiveOrNull(\(q))(toFloat64(\(x)))"                  // R51
        case .quantileDisc:                                                                // R52
            let q = a.fraction ?? 0.5
            return "if(count(\(x)) = 0, NULL, arraySort(groupArray(\(x)))[toUInt64(greatest(1, ceil(\(q) * count(\(x)))))])"
        case .approxQuantile:                                                              // R54: exact, as Plumb computes it
            let q = a.fraction ?? 0.5
            switch argType {
            case .bigint: return "toInt64(\(Self.roundHalfAway("quantileExactInclusiveOrNull(\(q))(toFloat64(\(x)))")))"
            case .timestamp: return quantileTimestamp(x, q)
            default: return "quantileExactInclusiveOrNull(\(q))(toFloat64(\(x)))"
            }
        }
    }

    /// R53: quantile_cont of timestamps as DuckDB computes it, llround(fma(lo, 1-d, hi*d)) on
    /// microseconds; ClickHouse has no fma, so lo*(1-d) is made exact (Dekker's TwoProduct with
    /// Veltkamp splits) and added with TwoSum. Each step is named once by an inline alias.
    private mutating func quantileTimestamp(_ x: String, _ q: Double) -> String {
        aliasCounter += 1
        let k = "_qt\(aliasCounter)_"
        let arr = "arraySort(groupArray(toUnixTimestamp64Micro(\(x))))"
        let pos = "(\(q) * (count(\(x)) - 1) AS \(k)pos)"
        let lo = "(toFloat64(\(arr)[toUInt64(floor(\(pos))) + 1]) AS \(k)lo)"
        let hi = "(toFloat64(\(arr)[toUInt64(ceil(\(k)pos)) + 1]) AS \(k)hi)"
        let d = "(\(k)pos - floor(\(k)pos) AS \(k)d)"
        let b = "(1 - \(d) AS \(k)b)"
        let c = "(\(hi) * \(k)d AS \(k)c)"
        let p = "(\(lo) * \(b) AS \(k)p)"
        func split(_ v: String) -> (String, String) {
            ("((134217729. * \(k)\(v) AS \(k)\(v)s) - (\(k)\(v)s - \(k)\(v)) AS \(k)\(v)h)", "(\(k)\(v) - \(k)\(v)h AS \(k)\(v)l)")
        }
        let (loh, lol) = split("lo"), (bh, bl) = split("b")
        let e = "(((\(loh) * \(bh) - \(k)p) + \(k)loh * \(bl) + \(lol) * \(k)bh) + \(k)lol * \(k)bl AS \(k)e)"
        let s = "(\(p) + \(c) AS \(k)s)"
        let bb = "(\(k)s - \(k)p AS \(k)bb)"
        let t = "((\(k)p - (\(k)s - \(bb))) + (\(k)c - \(k)bb) AS \(k)t)"
        let v = "(\(s) + (\(t) + \(e)) AS \(k)v)"
        let n = "\(k)v"
        let rounded = "if(\(v) >= 0, if(\(n) - floor(\(n)) >= 0.5, ceil(\(n)), floor(\(n))), if(ceil(\(n)) - \(n) >= 0.5, floor(\(n)), ceil(\(n))))"
        return "if(count(\(x)) = 0, NULL, fromUnixTimestamp64Micro(toInt64(\(rounded)), 'UTC'))"
    }

    // MARK: Literals

    static func quote(_ s: String) -> String {
        var out = "'"
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\0": out += "\\0"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "'"
    }

    static func timestampLiteral(_ micros: Int64) -> String {
        "toDateTime64('\(Timestamp.format(micros, separator: " ", zulu: false))', 6, 'UTC')"
    }

    static func literal(_ v: Value, _ t: SQLType) throws -> String {
        switch v {
        case .null: return "NULL"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return i < 0 ? "toInt64(\(i))" : "toInt64(\(i))"
        case .double(let d):
            if d.isNaN { return "nan" }
            if d.isInfinite { return d > 0 ? "inf" : "-inf" }
            return "toFloat64(\(d))"
        case .string(let s): return quote(s)
        case .timestamp(let us): return timestampLiteral(us)
        case .interval(let i): return String(Int64(i.normalizedMicros))
        case .map(let m):
            return "map(" + m.keys.sorted().map { "\(quote($0)), \(quote(m[$0]!))" }.joined(separator: ", ") + ")"
        }
    }
}
