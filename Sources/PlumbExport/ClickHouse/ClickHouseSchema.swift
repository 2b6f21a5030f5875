import Foundation
import PlumbCore

/// The ClickHouse tables Plumb writes (schemas/clickhouse.sql, compiled in): the columns in the
/// order an insert sends them, with their ClickHouse types as `system.columns` spells them and
/// how each is written in RowBinary.
///
/// ```swift
/// ClickHouseSchema.statements(database: "plumb", table: "spans", bodiesTable: "spans_bodies", ttlDays: 365, bodyTTLDays: 30)
/// ```
public enum ClickHouseSchema {
    public struct Column: Sendable {
        public var name: String
        public var type: String
        let write: @Sendable (inout RowBinaryWriter, Span, String) -> Void
    }

    /// The span columns (span schema v1 without the bodies) and `instance`.
    public static let spanColumns: [Column] = [
        Column(name: "span_id", type: "String") { w, s, _ in w.string(s.spanID) },
        Column(name: "trace_id", type: "Nullable(String)") { w, s, _ in w.nullableString(s.traceID) },
        Column(name: "parent_span_id", type: "Nullable(String)") { w, s, _ in w.nullableString(s.parentSpanID) },
        Column(name: "session_id", type: "Nullable(String)") { w, s, _ in w.nullableString(s.sessionID) },
        Column(name: "user_id", type: "Nullable(String)") { w, s, _ in w.nullableString(s.userID) },
        Column(name: "ts_start", type: "DateTime64(6, 'UTC')") { w, s, _ in w.dateTime64(s.tsStart) },
        Column(name: "ts_end", type: "DateTime64(6, 'UTC')") { w, s, _ in w.dateTime64(s.tsEnd) },
        Column(name: "latency_ms", type: "Float64") { w, s, _ in w.float64(s.latencyMs) },
        Column(name: "ttft_ms", type: "Nullable(Float64)") { w, s, _ in w.nullableFloat64(s.ttftMs) },
        Column(name: "upstream_ms", type: "Float64") { w, s, _ in w.float64(s.upstreamMs) },
        Column(name: "provider", type: "LowCardinality(String)") { w, s, _ in w.string(s.provider) },
        Column(name: "model_requested", type: "LowCardinality(Nullable(String))") { w, s, _ in w.nullableString(s.modelRequested) },
        Column(name: "model", type: "LowCardinality(Nullable(String))") { w, s, _ in w.nullableString(s.model) },
        Column(name: "operation", type: "LowCardinality(String)") { w, s, _ in w.string(s.operation) },
        Column(name: "endpoint", type: "LowCardinality(String)") { w, s, _ in w.string(s.endpoint) },
        Column(name: "method", type: "LowCardinality(String)") { w, s, _ in w.string(s.method) },
        Column(name: "stream", type: "Bool") { w, s, _ in w.bool(s.stream) },
        Column(name: "status", type: "Int64") { w, s, _ in w.int64(s.status) },
        Column(name: "error_type", type: "LowCardinality(Nullable(String))") { w, s, _ in w.nullableString(s.errorType) },
        Column(name: "finish_reason", type: "LowCardinality(Nullable(String))") { w, s, _ in w.nullableString(s.finishReason) },
        Column(name: "input_tokens", type: "Nullable(Int64)") { w, s, _ in w.nullableInt64(s.inputTokens) },
        Column(name: "output_tokens", type: "Nullable(Int64)") { w, s, _ in w.nullableInt64(s.outputTokens) },
        Column(name: "cache_read_tokens", type: "Nullable(Int64)") { w, s, _ in w.nullableInt64(s.cacheReadTokens) },
        Column(name: "cache_write_tokens", type: "Nullable(Int64)") { w, s, _ in w.nullableInt64(s.cacheWriteTokens) },
        Column(name: "reasoning_tokens", type: "Nullable(Int64)") { w, s, _ in w.nullableInt64(s.reasoningTokens) },
        Column(name: "cost_usd", type: "Nullable(Float64)") { w, s, _ in w.nullableFloat64(s.costUSD) },
        Column(name: "request_bytes", type: "Int64") { w, s, _ in w.int64(s.requestBytes) },
        Column(name: "response_bytes", type: "Int64") { w, s, _ in w.int64(s.responseBytes) },
        Column(name: "api_key_hash", type: "LowCardinality(Nullable(String))") { w, s, _ in w.nullableString(s.apiKeyHash) },
        Column(name: "properties", type: "Map(LowCardinality(String), String)") { w, s, _ in w.map(s.properties) },
        Column(name: "instance", type: "LowCardinality(String)") { w, _, instance in w.string(instance) },
    ]

    /// The bodies table: one row per span that has a body.
    public static let bodyColumns: [Column] = [
        Column(name: "span_id", type: "String") { w, s, _ in w.string(s.spanID) },
        Column(name: "ts_start", type: "DateTime64(6, 'UTC')") { w, s, _ in w.dateTime64(s.tsStart) },
        Column(name: "request_body", type: "Nullable(String)") { w, s, _ in w.nullableString(s.requestBody) },
        Column(name: "response_body", type: "Nullable(String)") { w, s, _ in w.nullableString(s.responseBody) },
        Column(name: "instance", type: "LowCardinality(String)") { w, _, instance in w.string(instance) },
    ]

    /// Insert blocks ClickHouse remembers for deduplication by token (`{dedup_window}`).
    public static let dedupWindow = 1000

    /// schemas/clickhouse.sql with its placeholders filled (`{database}`, `{table}`,
    /// `{bodies_table}`, `{span_ttl_days}`, `{body_ttl_days}`, `{dedup_window}`; names are
    /// checked identifiers); one statement each, comment lines dropped.
    public static func statements(database: String, table: String, bodiesTable: String, ttlDays: Int, bodyTTLDays: Int) -> [String] {
        let text = String(decoding: PackageResources.clickhouse_sql, as: UTF8.self)
        let filled = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
            .joined(separator: "\n")
            .replacingOccurrences(of: "{database}", with: database)
            .replacingOccurrences(of: "{bodies_table}", with: bodiesTable)
            .replacingOccurrences(of: "{table}", with: table)
            .replacingOccurrences(of: "{span_ttl_days}", with: String(ttlDays))
            .replacingOccurrences(of: "{body_ttl_days}", with: String(bodyTTLDays))
            .replacingOccurrences(of: "{dedup_window}", with: String(dedupWindow))
        return filled.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// The rows of `spans` in RowBinary, columns in `spanColumns` order.
    public static func spanRows(_ spans: [Span], instance: String) -> [UInt8] {
        var w = RowBinaryWriter(capacity: spans.count * 400)
        for s in spans { for c in spanColumns { c.write(&w, s, instance) } }
        return w.bytes
    }

    /// The bodies of those of `spans` that have one.
    public static func bodyRows(_ spans: [Span], instance: String) -> (rows: Int, bytes: [UInt8]) {
        var w = RowBinaryWriter()
        var n = 0
        for s in spans where s.requestBody != nil || s.responseBody != nil {
            for c in bodyColumns { c.write(&w, s, instance) }
            n += 1
        }
        return (n, w.bytes)
    }
}
