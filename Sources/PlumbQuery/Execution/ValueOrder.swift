import PlumbStore

/// The total order of values used by comparisons, ORDER BY, min/max and quantiles: numbers by
/// value (NaN above every number, as DuckDB), strings by UTF-8 bytes, false < true, intervals
/// normalised. NULL is handled by the callers (it never compares).
public enum ValueOrder {
    /// -1, 0 or 1. Both values non-null and of comparable types.
    public static func compare(_ a: Value, _ b: Value) -> Int {
        switch (a, b) {
        case (.int(let x), .int(let y)), (.timestamp(let x), .timestamp(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.double(let x), .double(let y)): return compareDoubles(x, y)
        case (.int(let x), .double(let y)): return compareDoubles(Double(x), y)
        case (.double(let x), .int(let y)): return compareDoubles(x, Double(y))
        case (.string(let x), .string(let y)): return Int(UTF8Bytes.compare(x, y).signum())
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (x ? 1 : -1)
        case (.interval(let x), .interval(let y)):
            let p = x.normalizedMicros, q = y.normalizedMicros
            return p < q ? -1 : (p > q ? 1 : 0)
        case (.null, .null): return 0
        case (.null, _): return 1
        case (_, .null): return -1
        default: return 0
        }
    }

    @inline(__always) public static func compareDoubles(_ x: Double, _ y: Double) -> Int {
        if x < y { return -1 }
        if x > y { return 1 }
        if x == y { return 0 }
        return x.isNaN ? (y.isNaN ? 0 : 1) : -1
    }
}
