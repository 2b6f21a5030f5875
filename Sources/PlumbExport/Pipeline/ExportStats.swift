/// One exporter's figures for `/_plumb/metrics`, `/_plumb/health` and `plumb export`.
public struct ExportStats: Sendable, Equatable {
    public var name: String
    public var spansExported: Int64 = 0
    public var batchesExported: Int64 = 0
    /// Sends that failed (each retry of a batch counts).
    public var batchesFailed: Int64 = 0
    /// Batches given up on after `maxAttempts` rejections, and their spans.
    public var batchesSkipped: Int64 = 0
    public var spansSkipped: Int64 = 0
    /// Spans of segments that went (retention, compaction, damage) before they were sent.
    public var spansLost: Int64 = 0
    /// Stored spans not yet acknowledged (published and still in the WAL).
    public var lagSpans: Int64 = 0
    /// ts_start of the newest stored span minus that of the newest acknowledged, in seconds
    /// (0 when nothing is waiting).
    public var lagSeconds: Double = 0
    /// The receiver's last complaint or the last transport error, nil after a success.
    public var lastError: String?
    /// True while a batch is waiting to be retried.
    public var retrying = false

    public init(name: String) { self.name = name }
}
