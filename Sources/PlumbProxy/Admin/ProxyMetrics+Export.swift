import PlumbExport

extension ProxyMetrics {
    /// The exporters' series: spans acknowledged, failed and skipped batches, spans lost before
    /// they were sent, and the lag in seconds and spans (labels: the exporter's name only).
    static func exportExposition(_ exporters: [ExportStats]) -> String {
        guard !exporters.isEmpty else { return "" }
        var out = ""
        func series(_ name: String, _ type: String, _ help: String, _ value: (ExportStats) -> String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for e in exporters { out += "\(name){exporter=\"\(e.name)\"} \(value(e))\n" }
        }
        series("plumb_export_spans_total", "counter", "Spans the exporter's receiver acknowledged.") { "\($0.spansExported)" }
        series("plumb_export_batches_total", "counter", "Batches the exporter's receiver acknowledged.") { "\($0.batchesExported)" }
        series("plumb_export_batches_failed_total", "counter", "Sends of a batch that failed (each retry counts).") { "\($0.batchesFailed)" }
        series("plumb_export_batches_skipped_total", "counter", "Batches given up on after repeated rejections (4xx).") { "\($0.batchesSkipped)" }
        series("plumb_export_spans_skipped_total", "counter", "Spans in skipped batches.") { "\($0.spansSkipped)" }
        series("plumb_export_spans_lost_total", "counter", "Spans deleted (retention, compaction past export_max_lag, damage) before they were sent.") { "\($0.spansLost)" }
        series("plumb_export_lag_seconds", "gauge", "Newest stored span's ts_start minus the newest acknowledged one's (at most the time the waiting spans cover).") { "\($0.lagSeconds)" }
        series("plumb_export_lag_spans", "gauge", "Stored spans not yet acknowledged.") { "\($0.lagSpans)" }
        series("plumb_export_retrying", "gauge", "1 while a batch waits to be sent again.") { $0.retrying ? "1" : "0" }
        return out
    }
}
