/// One value of a query: a constant, a group key, or a cell of the result.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case timestamp(Int64)
    case interval(Interval)
    case map([String: String])

    public var isNull: Bool { if case .null = self { return true }; return false }

    public var asDouble: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}
