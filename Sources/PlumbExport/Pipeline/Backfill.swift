import Foundation
import PlumbCore
import PlumbStore

/// `plumb export --since`: sends the published spans with ts_start in a range through a sink,
/// segment by segment and row group by row group, without touching any exporter's cursor.
/// Receivers deduplicate by span id, so a backfill over spans already exported adds nothing.
///
/// ```swift
/// let done = try Backfill(directory: dir, sink: sink, from: since, to: .max).run { print($0) }
/// done.spans   // spans the receiver took
/// ```
public struct Backfill {
    public let directory: DataDirectory
    public let sink: SpanSink
    public let from: Int64
    public let to: Int64
    public var policy = RetryPolicy()
    /// Retries of an unavailable receiver before the backfill stops with an error.
    public var maxRetries = 8

    public struct Outcome: Sendable, Equatable {
        public var spans = 0, batches = 0, skippedSpans = 0
    }

    public struct Failed: Error, CustomStringConvertible {
        public var description: String
    }

    public init(directory: DataDirectory, sink: SpanSink, from: Int64, to: Int64) {
        self.directory = directory; self.sink = sink; self.from = from; self.to = to
    }

    public func run(report: @escaping (String) -> Void) throws -> Outcome {
        let reader = try StoreReader(directory: directory)
        let installation = (try? Catalog(path: directory.catalog).installationID()) ?? "unknown"
        let bodies = BodyReader(directory: directory)
        let low = max(from, try reader.catalog.retentionCutoff())
        try sink.prepare()
        var out = Outcome()
        let delivery = Delivery(sink: sink, policy: policy, maxRetries: maxRetries,
                                pause: { Thread.sleep(forTimeInterval: $0); return true },
                                say: { report("\(sink.name): \($0)") }, failed: { _ in })
        for (record, segment) in try reader.openSegments(from: low, to: to) {
            var firstRow: Int64 = 0
            for g in segment.footer.rowGroups.indices {
                defer { firstRow += Int64(segment.footer.rowGroups[g].rowCount) }
                let (spans, refs) = try SpanColumns.spans(from: try segment.allColumns(rowGroup: g))
                var start = 0
                while start < spans.count {
                    let end = min(spans.count, start + sink.maxBatchSpans)
                    var picked: [Span] = []
                    for i in start..<end where spans[i].tsStart >= low && spans[i].tsStart <= to {
                        var s = spans[i]
                        if sink.includeBodies, let ref = refs[i] { (s.requestBody, s.responseBody) = bodies.read(ref) }
                        picked.append(s)
                    }
                    let rows = (firstRow + Int64(start))..<(firstRow + Int64(end))
                    start = end
                    if picked.isEmpty { continue }
                    let batch = ExportBatch(spans: picked, installation: installation, segmentID: record.id, rows: rows)
                    switch delivery.send(batch) {
                    case .accepted: out.spans += picked.count; out.batches += 1
                    case .skipped: out.skippedSpans += picked.count
                    case .stopped: throw Failed(description: "\(sink.name): stopped")
                    case .gaveUp(let reason):
                        let again = sink.name == "clickhouse" ? "run the same command again to continue (ClickHouse keeps each span once)"
                            : "narrow --since to continue (an OTLP receiver may keep spans sent twice twice)"
                        throw Failed(description: "\(sink.name): the receiver stayed unavailable (\(reason)); \(out.spans) spans were sent before it; \(again)")
                    }
                }
            }
        }
        for p in reader.problems { report(p) }
        return out
    }
}
