import PlumbCore

/// The types a query expression can have. Integers are 64-bit throughout (DuckDB's INTEGER and
/// BIGINT give the same answers on span data); timestamps are microseconds UTC.
public enum SQLType: Sendable, Hashable, CustomStringConvertible {
    case boolean, bigint, double, varchar, timestamp, interval, map
    /// The type of a bare NULL: it takes the type its context needs.
    case null

    public init(_ column: ColumnType) {
        switch column {
        case .string: self = .varchar
        case .timestamp: self = .timestamp
        case .double: self = .double
        case .int: self = .bigint
        case .bool: self = .boolean
        case .map: self = .map
        }
    }

    public var description: String {
        switch self {
        case .boolean: "BOOLEAN"
        case .bigint: "BIGINT"
        case .double: "DOUBLE"
        case .varchar: "VARCHAR"
        case .timestamp: "TIMESTAMP"
        case .interval: "INTERVAL"
        case .map: "MAP(VARCHAR, VARCHAR)"
        case .null: "NULL"
        }
    }

    public var isNumeric: Bool { self == .bigint || self == .double }

    /// Names accepted by CAST and `::`.
    public static func named(_ name: String) -> SQLType? {
        switch name {
        case "boolean", "bool", "logical": .boolean
        case "bigint", "int", "integer", "int8", "int4", "int2", "smallint", "tinyint", "long", "hugeint", "ubigint", "uinteger": .bigint
        case "double", "float", "float8", "real", "float4", "decimal", "numeric": .double
        case "varchar", "text", "string", "char", "bpchar": .varchar
        case "timestamp", "datetime", "timestamptz", "timestamp_us": .timestamp
        case "interval": .interval
        default: nil
        }
    }
}
