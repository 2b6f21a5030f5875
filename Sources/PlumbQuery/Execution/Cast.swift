import Foundation
import PlumbCore

/// Conversions between types, as CAST and `::` and the implicit casts of the binder make them.
/// A value that does not convert is an error naming it (as DuckDB's "Could not convert").
enum Cast {
    static func vector(_ v: Vector, to t: SQLType) throws -> Vector {
        if v.type == t || t == .null { return v }
        if case .constant(let c, let n) = v.data { return .constant(try value(c, to: t, strict: true), type: t, count: n) }
        switch (v.type, t, v.data) {
        case (.bigint, .double, .int(let x)): return Vector(type: .double, data: .double(x.map { Double($0) }), validity: v.validity)
        case (.null, _, _): return .constant(.null, type: t, count: v.count)
        default:
            return try Evaluator.rowWise(t, [v], count: v.count) { try value($0[0], to: t, strict: true) }
        }
    }

    /// Lenient form for CASE results (types already unified by the binder).
    static func value(_ v: Value, to t: SQLType) -> Value? { try? value(v, to: t, strict: true) }

    static func value(_ v: Value, to t: SQLType, strict: Bool) throws -> Value {
        if v.isNull { return .null }
        switch (v, t) {
        case (.int, .bigint), (.double, .double), (.string, .varchar), (.bool, .boolean), (.timestamp, .timestamp),
             (.interval, .interval), (.map, .map):
            return v
        case (.int(let i), .double): return .double(Double(i))
        case (.double(let d), .bigint):
            let r = d.rounded(.toNearestOrEven)
            guard r.isFinite, r >= -9.223372036854775808e18, r < 9.223372036854775808e18 else {
                throw QueryError("Could not convert \(d) to BIGINT: out of range")
            }
            return .int(Int64(r))
        case (.bool(let b), .bigint): return .int(b ? 1 : 0)
        case (.bool(let b), .double): return .double(b ? 1 : 0)
        case (.int(let i), .boolean): return .bool(i != 0)
        case (_, .varchar): return .string(text(v))
        case (.string(let s), .bigint):
            guard let i = Int64(s.trimmingCharacters(in: .whitespaces)) else { throw QueryError("Could not convert string '\(s)' to BIGINT") }
            return .int(i)
        case (.string(let s), .double):
            guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else { throw QueryError("Could not convert string '\(s)' to DOUBLE") }
            return .double(d)
        case (.string(let s), .boolean):
            switch s.lowercased() {
            case "true", "t", "1", "yes", "y": return .bool(true)
            case "false", "f", "0", "no", "n": return .bool(false)
            default: throw QueryError("Could not convert string '\(s)' to BOOLEAN")
            }
        case (.string(let s), .timestamp):
            guard let t = try? Timestamp.parse(s) else {
                throw QueryError("Could not convert string '\(s)' to TIMESTAMP (expected e.g. 2026-11-21 10:00:00)")
            }
            return .timestamp(t)
        case (.string(let s), .interval):
            guard let i = IntervalParser.parse(s) else { throw QueryError("Could not convert string '\(s)' to INTERVAL") }
            return .interval(i)
        default:
            throw QueryError("cannot cast \(text(v)) to \(t)")
        }
    }

    /// Text of a value as DuckDB casts it to VARCHAR (timestamps with a space, trailing zeros of
    /// the fraction cut).
    static func text(_ v: Value) -> String {
        switch v {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return NumberText.double(d)
        case .string(let s): return s
        case .timestamp(let t):
            var s = Timestamp.format(t, separator: " ", zulu: false)
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
            return s
        case .interval(let i): return i.text
        case .map(let m):
            return "{" + m.keys.sorted().map { "\($0)=\(m[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Shortest text that reads back as the same DOUBLE (as DuckDB prints them): "0.1", "1e-05",
/// "inf", "nan".
public enum NumberText {
    public static func double(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) + ".0" }
        return "\(d)"
    }
}
