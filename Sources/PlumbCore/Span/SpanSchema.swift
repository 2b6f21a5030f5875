#if canImport(Glibc)
import Glibc
#endif

/// The logical type of a column of the `spans` table.
public enum ColumnType: String, Sendable, Hashable, CaseIterable {
    case string, timestamp, double, int, bool, map
}

/// One column of span schema v1: its name as users write it in SQL and JSON, type and nullability.
public struct ColumnDescriptor: Sendable, Hashable {
    public let name: String
    public let type: ColumnType
    public let nullable: Bool
    /// Bodies are stored apart from the columns and read only when selected.
    public let isBody: Bool

    public init(_ name: String, _ type: ColumnType, nullable: Bool = false, isBody: Bool = false) {
        self.name = name; self.type = type; self.nullable = nullable; self.isBody = isBody
    }
}

/// Span schema v1, in the column order of DESIGN.md.
///
/// ```swift
/// SpanSchema.columns.map(\.name)   // ["span_id", "trace_id", ...]
/// SpanSchema.index(of: "model")    // 12
/// ```
public enum SpanSchema {
    public static let version = 1

    public static let columns: [ColumnDescriptor] = [
        .init("span_id", .string),
        .init("trace_id", .string, nullable: true),
        .init("parent_span_id", .string, nullable: true),
        .init("session_id", .string, nullable: true),
        .init("user_id", .string, nullable: true),
        .init("ts_start", .timestamp),
        .init("ts_end", .timestamp),
        .init("latency_ms", .double),
        .init("ttft_ms", .double, nullable: true),
        .init("upstream_ms", .double),
        .init("provider", .string),
        .init("model_requested", .string, nullable: true),
        .init("model", .string, nullable: true),
        .init("operation", .string),
        .init("endpoint", .string),
        .init("method", .string),
        .init("stream", .bool),
        .init("status", .int),
        .init("error_type", .string, nullable: true),
        .init("finish_reason", .string, nullable: true),
        .init("input_tokens", .int, nullable: true),
        .init("output_tokens", .int, nullable: true),
        .init("cache_read_tokens", .int, nullable: true),
        .init("cache_write_tokens", .int, nullable: true),
        .init("reasoning_tokens", .int, nullable: true),
        .init("cost_usd", .double, nullable: true),
        .init("request_bytes", .int),
        .init("response_bytes", .int),
        .init("api_key_hash", .string, nullable: true),
        .init("properties", .map),
        .init("request_body", .string, nullable: true, isBody: true),
        .init("response_body", .string, nullable: true, isBody: true),
    ]

    /// The columns kept in segment files (bodies live in body files).
    public static let storedColumns: [ColumnDescriptor] = columns.filter { !$0.isBody }

    private static let indexByName: [String: Int] = Dictionary(
        uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) })

    public static func index(of name: String) -> Int? { indexByName[name] }

    private static let namesByLength: [[(index: Int, bytes: [UInt8])]] = {
        var buckets = [[(index: Int, bytes: [UInt8])]](repeating: [], count: 32)
        for (i, c) in columns.enumerated() { buckets[c.name.utf8.count].append((i, Array(c.name.utf8))) }
        return buckets
    }()

    /// The column index of a key given as raw UTF-8 (no String made on the hot path).
    public static func index(ofKeyBytes key: UnsafeBufferPointer<UInt8>) -> Int? {
        guard key.count < namesByLength.count else { return nil }
        guard let base = key.baseAddress else { return key.count == 0 ? nil : nil }
        for candidate in namesByLength[key.count] {
            let same = candidate.bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, base, key.count) == 0 }
            if same { return candidate.index }
        }
        return nil
    }
}
