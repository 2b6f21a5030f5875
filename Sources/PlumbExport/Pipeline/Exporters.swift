import Foundation
import PlumbCore
import PlumbStore

/// Builds the configured exporters for a data directory: `plumb serve` runs them on their own
/// threads; `plumb export` drives one for a backfill.
///
/// ```swift
/// let exporters = try Exporters.make(ExportConfig(config: config), directory: dir, registry: registry, version: "0.1.0") { print($0) }
/// exporters.forEach { $0.start() }
/// ```
public enum Exporters {
    public static func make(_ config: ExportConfig, directory: DataDirectory, registry: ProviderRegistry, version: String,
                            report: @escaping @Sendable (String) -> Void) throws -> [Exporter] {
        let catalog = try Catalog(path: directory.catalog)
        let sinks = try Self.sinks(config, installation: try catalog.installationID(), registry: registry, version: version, report: report)
        // Exporters no longer configured stop holding back compaction and retention.
        try catalog.retireExporters(except: Set(sinks.map(\.name)))
        return try sinks.map { sink in
            let e = try Exporter(sink: sink, directory: directory, report: report)
            e.maxLagMicros = config.maxLagMicros
            return e
        }
    }

    /// The sinks of `config`, without exporters around them (a backfill sends through them directly).
    public static func sinks(_ config: ExportConfig, installation: String, registry: ProviderRegistry, version: String,
                             report: @escaping @Sendable (String) -> Void) throws -> [SpanSink] {
        var sinks: [SpanSink] = []
        if let o = config.otlp {
            let resource = OTLPResource(serviceName: o.serviceName, instanceID: installation,
                                        hostName: ProcessInfo.processInfo.hostName, scopeVersion: version, extra: o.resourceAttributes)
            sinks.append(OTLPSink(settings: o, resource: resource, providers: registry.providers.mapValues(OTLPSpan.ProviderInfo.init),
                                  warn: report))
        }
        if let c = config.clickhouse {
            sinks.append(ClickHouseSink(settings: c, instance: c.instance ?? ProcessInfo.processInfo.hostName, installation: installation, report: report))
        }
        return sinks
    }
}
