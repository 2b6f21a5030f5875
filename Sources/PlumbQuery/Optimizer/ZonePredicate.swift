import PlumbStore

/// A condition on one stored column that every row the WHERE clause keeps must meet, in a form
/// zone maps can refute: a range (from comparisons, BETWEEN, IN), IS NULL or IS NOT NULL. Derived
/// from the top-level AND terms of the filter; terms it cannot use are left to the filter.
///
/// ```swift
/// let preds = ZonePredicate.derive(from: query.filter, columns: query.scanColumns)
/// preds.allSatisfy { $0.mayMatch(zone) }       // false: skip the row group
/// ```
public struct ZonePredicate: Sendable, CustomStringConvertible {
    public enum Bound: Sendable { case int(Int64), double(Double), string(String) }
    public var column: String
    public var lower: (Bound, inclusive: Bool)?
    public var upper: (Bound, inclusive: Bool)?
    public var isNull: Bool?

    public var description: String {
        var parts: [String] = []
        if let lower { parts.append("\(column) \(lower.inclusive ? ">=" : ">") \(text(lower.0))") }
        if let upper { parts.append("\(column) \(upper.inclusive ? "<=" : "<") \(text(upper.0))") }
        if let isNull { parts.append("\(column) IS \(isNull ? "" : "NOT ")NULL") }
        return parts.joined(separator: " AND ")
    }

    private func text(_ b: Bound) -> String {
        switch b {
        case .int(let i): column.hasPrefix("ts_") ? "'" + Cast.text(.timestamp(i)) + "'" : String(i)
        case .double(let d): NumberText.double(d)
        case .string(let s): "'\(s)'"
        }
    }

    /// False when no row of a chunk with zone map `z` can satisfy the predicate.
    public func mayMatch(_ z: ZoneMap) -> Bool {
        if z.rowCount == 0 { return false }
        if let isNull { return isNull ? z.nullCount > 0 : z.nullCount < z.rowCount }
        // A comparison never holds for NULL: an all-null chunk is out.
        if z.nullCount == z.rowCount { return false }
        if let lower, let c = compare(z, max: true, lower.0) { if c < 0 || (c == 0 && !lower.inclusive) { return false } }
        if let upper, let c = compare(z, max: false, upper.0) { if c > 0 || (c == 0 && !upper.inclusive) { return false } }
        return true
    }

    /// True when every row of a chunk with zone map `z` satisfies the predicate (then the filter
    /// term need not be evaluated there: a row group wholly inside a time window, say).
    public func alwaysMatches(_ z: ZoneMap) -> Bool {
        if let isNull { return isNull ? z.nullCount == z.rowCount : z.nullCount == 0 }
        guard z.nullCount == 0, z.rowCount > 0 else { return false }
        if let lower {
            guard let c = compare(z, max: false, lower.0) else { return false }     // min vs lower
            if c < 0 || (c == 0 && !lower.inclusive) { return false }
        }
        if let upper {
            guard let c = compare(z, max: true, upper.0) else { return false }      // max vs upper
            if c > 0 || (c == 0 && !upper.inclusive) { return false }
        }
        return true
    }

    /// The chunk's max (or min) against `b`: -1, 0, 1, or nil when the zone map has no bounds.
    private func compare(_ z: ZoneMap, max: Bool, _ b: Bound) -> Int? {
        switch (z.bounds, b) {
        case (.int(let lo, let hi), .int(let x)): let v = max ? hi : lo; return v < x ? -1 : (v > x ? 1 : 0)
        case (.int(let lo, let hi), .double(let x)): let v = Double(max ? hi : lo); return v < x ? -1 : (v > x ? 1 : 0)
        case (.double(let lo, let hi), .double(let x)): let v = max ? hi : lo; return v < x ? -1 : (v > x ? 1 : 0)
        case (.double(let lo, let hi), .int(let x)): let v = max ? hi : lo; return v < Double(x) ? -1 : (v > Double(x) ? 1 : 0)
        case (.string(let lo, let hi), .string(let x)):
            // A string min is a prefix (≤ the true min), so it can only be used as a lower bound;
            // the max is exact (longer maxima have no bounds at all).
            return Int(UTF8Bytes.compare(max ? hi : lo, x).signum())
        default: return nil
        }
    }

    /// The ts_start range the predicates allow, for the catalog's per-segment time ranges.
    public static func timeRange(_ preds: [ZonePredicate]) -> (from: Int64, to: Int64) {
        var from = Int64.min, to = Int64.max
        for p in preds where p.column == "ts_start" {
            if let (b, inc) = p.lower, case .int(let v) = b { from = Swift.max(from, inc ? v : v &+ 1) }
            if let (b, inc) = p.upper, case .int(let v) = b { to = Swift.min(to, inc ? v : v &- 1) }
        }
        return (from, to)
    }
}
