import PlumbCore

/// The values of one column over a run of rows. Null rows hold a placeholder (0, "", false, [:])
/// and are marked in `validity`; `validity == nil` means no nulls.
///
/// ```swift
/// let c = ColumnVector(.int([1, 0, 3]), validity: [true, false, true])
/// c.isNull(1)   // true
/// ```
public enum ColumnValues: Sendable, Equatable {
    case int([Int64])          // int and timestamp columns
    case double([Double])
    case bool([Bool])
    case string([String])
    case map([[String: String]])

    public var count: Int {
        switch self {
        case .int(let v): v.count
        case .double(let v): v.count
        case .bool(let v): v.count
        case .string(let v): v.count
        case .map(let v): v.count
        }
    }
}

public struct ColumnVector: Sendable, Equatable {
    public var values: ColumnValues
    public var validity: [Bool]?

    public init(_ values: ColumnValues, validity: [Bool]? = nil) {
        self.values = values
        self.validity = validity.flatMap { $0.allSatisfy { $0 } ? nil : $0 }
    }

    public var count: Int { values.count }

    @inline(__always) public func isNull(_ row: Int) -> Bool { validity.map { !$0[row] } ?? false }

    public var nullCount: Int { validity.map { $0.lazy.filter { !$0 }.count } ?? 0 }
}
