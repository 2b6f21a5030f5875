import Foundation

/// The scalar functions of the dialect. `Binder` checks arity and types and casts the
/// arguments; `evaluate` runs over whole vectors (typed loops for the time functions, which
/// dashboards call on every row).
public enum ScalarFunction: String, Sendable, CaseIterable {
    case coalesce, nullif, abs, round, floor, ceil, lower, upper, length, concat
    case dateTrunc = "date_trunc", timeBucket = "time_bucket", datePart = "date_part"
    case greatest, least, contains
    case startsWith = "starts_with"

    public static let aliases: [String: ScalarFunction] = [
        "ifnull": .coalesce, "ceiling": .ceil, "datetrunc": .dateTrunc, "datepart": .datePart, "lcase": .lower, "ucase": .upper,
        "char_length": .length, "character_length": .length, "prefix": .startsWith,
    ]

    public static func named(_ name: String) -> ScalarFunction? { ScalarFunction(rawValue: name) ?? aliases[name] }

    /// Rows where any argument is NULL give NULL without evaluating (all but these).
    var nullsIn: Bool { [.coalesce, .nullif, .greatest, .least, .concat].contains(self) }

    func evaluate(_ args: [Vector], type t: SQLType, count n: Int) throws -> Vector {
        switch self {
        case .dateTrunc:
            if case .constant(.string(let partText), _) = args[0].data, case .int(let ts) = args[1].data {
                guard let part = TimeMath.Part(partText), part.truncates else { throw QueryError("date_trunc: unknown date part '\(partText)'") }
                return Vector(type: .timestamp, data: .int(ts.map { TimeMath.truncate(part, $0) }), validity: args[1].validity)
            }
        case .timeBucket:
            if args.count == 2, case .constant(.interval(let w), _) = args[0].data, case .int(let ts) = args[1].data {
                return Vector(type: .timestamp, data: .int(try TimeMath.buckets(w, ts, valid: args[1].validity)), validity: args[1].validity)
            }
        case .coalesce where t == .varchar:
            if let v = Self.coalesceStrings(args, count: n) { return v }
        default: break
        }
        return try Evaluator.rowWise(t, args, count: n, nullsIn: nullsIn) { try apply($0, t) }
    }

    func apply(_ a: [Value], _ t: SQLType) throws -> Value {
        switch self {
        case .coalesce: return a.first { !$0.isNull } ?? .null
        case .nullif: return !a[1].isNull && ValueOrder.compare(a[0], a[1]) == 0 ? .null : a[0]
        case .greatest, .least:
            let present = a.filter { !$0.isNull }
            guard var best = present.first else { return .null }
            for v in present.dropFirst() {
                let c = ValueOrder.compare(v, best)
                if self == .greatest ? c > 0 : c < 0 { best = v }
            }
            return best
        case .abs:
            switch a[0] {
            case .int(let i):
                guard i != .min else { throw QueryError("Overflow in abs(\(i))") }
                return .int(Swift.abs(i))
            case .double(let d): return .double(Swift.abs(d))
            default: return .null
            }
        case .round:
            var digits: Int64 = 0
            if a.count > 1, case .int(let d) = a[1] { digits = max(-400, min(400, d)) }
            switch a[0] {
            case .int(let i):
                guard digits < 0 else { return .int(i) }
                guard digits > -19 else { return .int(0) }
                let p = Int64(pow(10.0, Double(-digits)))
                return .int(Int64((Double(i) / Double(p)).rounded(.toNearestOrAwayFromZero)) &* p)
            case .double(let d):
                let p = pow(10.0, Double(digits))
                let r = (d * p).rounded(.toNearestOrAwayFromZero) / p
                return .double(r.isFinite ? r : d)
            default: return .null
            }
        case .floor, .ceil:
            switch a[0] {
            case .int: return a[0]
            case .double(let d): return .double(self == .floor ? d.rounded(.down) : d.rounded(.up))
            default: return .null
            }
        case .lower: if case .string(let s) = a[0] { return .string(s.lowercased()) }; return .null
        case .upper: if case .string(let s) = a[0] { return .string(s.uppercased()) }; return .null
        case .length: if case .string(let s) = a[0] { return .int(Int64(s.unicodeScalars.count)) }; return .null
        case .concat: return .string(a.filter { !$0.isNull }.map(Cast.text).joined())
        case .contains:
            guard case .string(let s) = a[0], case .string(let x) = a[1] else { return .null }
            return .bool(x.isEmpty || LikePattern("%" + x.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%", caseInsensitive: false, escapes: true).matches(s))
        case .startsWith:
            guard case .string(let s) = a[0], case .string(let x) = a[1] else { return .null }
            return .bool(s.utf8.starts(with: x.utf8))
        case .dateTrunc:
            guard case .string(let name) = a[0], case .timestamp(let ts) = a[1] else { return .null }
            guard let part = TimeMath.Part(name), part.truncates else { throw QueryError("date_trunc: unknown date part '\(name)'") }
            return .timestamp(TimeMath.truncate(part, ts))
        case .datePart:
            guard case .string(let name) = a[0], case .timestamp(let ts) = a[1] else { return .null }
            guard let part = TimeMath.Part(name) else { throw QueryError("date_part: unknown date part '\(name)'") }
            return .int(TimeMath.part(part, ts))
        case .timeBucket:
            guard case .interval(let w) = a[0], case .timestamp(let ts) = a[1] else { return .null }
            var origin: Int64? = nil
            if a.count > 2 { guard case .timestamp(let o) = a[2] else { return .null }; origin = o }
            return .timestamp(try TimeMath.bucket(w, ts, origin: origin))
        }
    }
}
