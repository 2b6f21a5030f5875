/// What a receiver made of a batch.
public enum SendOutcome: Sendable, Equatable {
    case accepted
    /// Worth trying again: the receiver is down, busy (429, 503, 5xx) or timed out; `after` is
    /// its `Retry-After` in seconds, when it sent one.
    case retry(after: Double?, reason: String)
    /// The receiver refused this batch (400 and other 4xx) and said why; trying again is not
    /// expected to help, so the batch is skipped after a bounded number of tries.
    case rejected(reason: String)
}

/// A destination for spans: OTLP/HTTP, ClickHouse. Called from one exporter thread only.
///
/// ```swift
/// final class Printer: SpanSink {
///     let name = "print"; let includeBodies = false; let maxBatchSpans = 100
///     func prepare() throws {}
///     func send(_ batch: ExportBatch) -> SendOutcome { print(batch.label); return .accepted }
/// }
/// ```
public protocol SpanSink: AnyObject, Sendable {
    /// The exporter's name: its cursor in the catalog and its label in metrics.
    var name: String { get }
    /// Whether spans are read with their bodies.
    var includeBodies: Bool { get }
    var maxBatchSpans: Int { get }
    /// Runs before the first batch (ClickHouse checks or creates its tables); a failure is
    /// reported and the exporter tries again later.
    func prepare() throws
    func send(_ batch: ExportBatch) -> SendOutcome
}
