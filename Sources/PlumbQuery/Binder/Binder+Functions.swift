/// Function calls: scalar functions with their argument types, and aggregates, which in a
/// grouped query become references to the aggregate's output.
extension Binder {
    static var functionNames: [String] {
        ScalarFunction.allCases.map(\.rawValue) + AggregateFunction.allCases.map(\.rawValue).filter { $0 != "count_star" } + ["now"]
    }

    func function(_ name: String, _ args: [Expr], distinct: Bool, star: Bool, at: Int, text: String, _ ctx: Context) throws -> BoundExpr {
        if let agg = AggregateFunction.named(name) ?? (name == "count" && star ? .countStar : nil) {
            return try aggregate(star && agg == .count ? .countStar : agg, args, distinct: distinct, star: star, at: at, text: text, ctx)
        }
        if star {
            if ScalarFunction.named(name) == nil {
                let hint = NameHints.closest(name, among: Self.functionNames).map { "did you mean \($0)()?" }
                throw QueryError("unknown function \(name)()", at: at, hint: hint)
            }
            throw QueryError("\(name)(*) is not a function; only count(*) takes *", at: at)
        }
        if distinct { throw QueryError("DISTINCT is only allowed in aggregate functions", at: at) }
        if name == "now" || name == "current_timestamp" || name == "get_current_timestamp" {
            guard args.isEmpty else { throw QueryError("\(name)() takes no arguments", at: at) }
            return .constant(.timestamp(now), .timestamp)
        }
        guard let f = ScalarFunction.named(name) else {
            let hint = NameHints.closest(name, among: Self.functionNames).map { "did you mean \($0)()?" }
            throw QueryError("unknown function \(name)()", at: at, hint: hint)
        }
        var bound = try args.map { try bind($0, ctx) }
        func arity(_ range: ClosedRange<Int>) throws {
            guard range.contains(args.count) else {
                let want = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
                throw QueryError("\(name)() takes \(want) argument\(range.upperBound == 1 ? "" : "s"), got \(args.count)", at: at)
            }
        }
        func arg(_ k: Int, _ t: SQLType) throws { bound[k] = try coerce(bound[k], to: t, at: args[k].offset, what: "argument \(k + 1) of \(name)()") }
        let type: SQLType
        switch f {
        case .coalesce, .greatest, .least, .nullif:
            try arity(f == .nullif ? 2...2 : 1...64)
            var t = SQLType.null
            for (k, b) in bound.enumerated() { t = try commonType(t, b.type, at: args[k].offset, what: "\(name)()", nil, b) }
            for k in bound.indices { try arg(k, t) }
            type = t
        case .abs, .floor, .ceil:
            try arity(1...1)
            guard bound[0].type.isNumeric || bound[0].type == .null else { throw QueryError("\(name)() expects a number, found \(bound[0].type)", at: args[0].offset) }
            type = bound[0].type == .null ? .double : bound[0].type
        case .round:
            try arity(1...2)
            guard bound[0].type.isNumeric || bound[0].type == .null else { throw QueryError("round() expects a number, found \(bound[0].type)", at: args[0].offset) }
            if args.count == 2 { try arg(1, .bigint) }
            type = bound[0].type == .null ? .double : bound[0].type
        case .lower, .upper, .length:
            try arity(1...1)
            try arg(0, .varchar)
            type = f == .length ? .bigint : .varchar
        case .contains, .startsWith:
            try arity(2...2)
            try arg(0, .varchar); try arg(1, .varchar)
            type = .boolean
        case .concat:
            try arity(1...64)
            type = .varchar
        case .dateTrunc, .datePart:
            try arity(2...2)
            try arg(0, .varchar); try arg(1, .timestamp)
            if case .constant(.string(let part), _) = bound[0] {
                let ok = TimeMath.Part(part).map { f == .datePart || $0.truncates } ?? false
                guard ok else {
                    throw QueryError("unknown date part '\(part)'", at: args[0].offset,
                                     hint: "use one of microsecond, millisecond, second, minute, hour, day, week, month, quarter, year")
                }
            }
            type = f == .dateTrunc ? .timestamp : .bigint
        case .timeBucket:
            try arity(2...3)
            try arg(0, .interval); try arg(1, .timestamp)
            if args.count == 3 { try arg(2, .timestamp) }
            type = .timestamp
        }
        return .function(f, bound, type)
    }

    func aggregate(_ f: AggregateFunction, _ args: [Expr], distinct: Bool, star: Bool, at: Int, text: String, _ ctx: Context) throws -> BoundExpr {
        let grouping: Grouping
        switch ctx {
        case .scan(let clause): throw QueryError("aggregate functions are not allowed in \(clause)", at: at)
        case .insideAggregate: throw QueryError("aggregate function calls cannot be nested", at: at)
        case .grouped(let g): grouping = g
        }
        let inner = Context.insideAggregate(f.rawValue)
        var spec = AggregateSpec(function: f, argument: nil, distinct: distinct, fraction: nil, type: .bigint, text: text)
        switch f {
        case .countStar:
            guard args.isEmpty else { throw QueryError("count(*) takes no other arguments", at: at) }
        default:
            let want = f.takesFraction ? 2 : 1
            guard args.count == want else {
                throw QueryError("\(f.rawValue)() takes \(want) argument\(want == 1 ? "" : "s"), got \(args.count)", at: at)
            }
            var a = try bind(args[0], inner)
            switch f {
            case .sum, .avg:
                if a.type == .boolean { a = .cast(a, .bigint) }
                guard a.type.isNumeric || a.type == .null else { throw QueryError("\(f.rawValue)() expects a number, found \(a.type)", at: args[0].offset) }
                if a.type == .null { a = .constant(.null, .double) }
            case .countIf:
                a = try coerce(a, to: .boolean, at: args[0].offset, what: "count_if()")
            case .median, .quantileCont, .quantileDisc, .approxQuantile:
                guard a.type.isNumeric || a.type == .timestamp || a.type == .null else {
                    throw QueryError("\(f.rawValue)() expects a number or timestamp, found \(a.type)", at: args[0].offset)
                }
                if a.type == .null { a = .constant(.null, .double) }
            case .min, .max, .anyValue:
                guard a.type != .map else { throw QueryError("\(f.rawValue)() cannot take a map", at: args[0].offset) }
            default: break
            }
            if f.takesFraction {
                guard let q = try bind(args[1], .scan(clause: "a quantile fraction")).constantValue?.asDouble, (0...1).contains(q) else {
                    throw QueryError("the quantile must be a constant between 0 and 1", at: args[1].offset)
                }
                spec.fraction = q
            }
            spec.argument = a
            spec.type = f.resultType(a.type)
        }
        if let k = grouping.aggregates.firstIndex(where: { $0.text == text }) {
            return .column(grouping.keyTexts.count + k, grouping.aggregates[k].type)
        }
        grouping.aggregates.append(spec)
        return .column(grouping.keyTexts.count + grouping.aggregates.count - 1, spec.type)
    }
}
