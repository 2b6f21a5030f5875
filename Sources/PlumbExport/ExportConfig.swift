import PlumbCore

/// The `[export]` tables of the config file (schemas/config.md) and `export_max_lag`.
///
/// ```toml
/// export_max_lag = "24h"
/// [export.otlp]
/// endpoint = "http://collector:4318"
/// [export.clickhouse]
/// url = "http://clickhouse:8123"
/// ```
public struct ExportConfig: Sendable {
    public var otlp: OTLPSettings?
    public var clickhouse: ClickHouseExportSettings?
    /// Compaction and retention stop waiting for an exporter further behind than this (nil: wait forever).
    public var maxLagMicros: Int64? = 86_400_000_000

    public static let kinds: Set<String> = ["otlp", "clickhouse"]

    public init() {}

    public init(config: PlumbConfig) throws {
        if let lag = try config.duration("export_max_lag") { maxLagMicros = lag }
        guard let raw = config.file["export"] else { return }
        guard case .object(let t) = raw else { throw PlumbConfig.Error("config key 'export' must be a table ([export.otlp], [export.clickhouse])") }
        for k in t.keys where !Self.kinds.contains(k) {
            throw PlumbConfig.Error("unknown exporter 'export.\(k)' (known: clickhouse, otlp)")
        }
        func table(_ k: String) throws -> [String: JSONValue]? {
            guard let v = t[k] else { return nil }
            guard case .object(let o) = v else { throw PlumbConfig.Error("export.\(k) must be a table ([export.\(k)])") }
            return o
        }
        if let o = try table("otlp") { otlp = try OTLPSettings(table: o, environment: config.environment) }
        if let o = try table("clickhouse") { clickhouse = try ClickHouseExportSettings(table: o, environment: config.environment) }
    }

    public var isEmpty: Bool { otlp == nil && clickhouse == nil }
}
