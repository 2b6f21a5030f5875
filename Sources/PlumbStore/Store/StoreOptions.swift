/// Tuning and retention for a writing `SpanStore`. Config keys in `schemas/config.md`.
public struct StoreOptions: Sendable {
    /// A memtable older than this is cut into a segment (readers see spans within about this long).
    public var cutInterval: Double = 1.0
    /// When spans trickle in, the WAL thread waits this long (seconds) to gather them into one
    /// group commit, instead of one write and fdatasync per span. `flush()` does not wait for it.
    /// 10 ms keeps a span finished ~100 ms before a crash safe with a wide margin (DESIGN.md),
    /// while a proxy at 1,000 calls/s pays 100 fdatasyncs a second instead of 500 (each one a
    /// disk flush and, on a VM, exits to the host).
    public var walCommitDelay: Double = 0.010
    /// LZ4 for WAL frames: by default only while the disk is the bottleneck (`CompressionPolicy`).
    public var walCompression: WriteAheadLog.Compression = .adaptive
    /// A memtable this large is cut at once (small enough that the publisher works alongside
    /// the WAL under load; compaction merges the results).
    public var cutRows: Int = 262_144
    /// ... or holds this many bytes of records. A server bounds its memtable so (at its maximum
    /// rate a second's spans with their bodies were ~45 MB, and one more sat frozen beside it);
    /// a batch import leaves it unbounded and cuts by rows.
    public var cutBytes: Int = .max
    public var rowGroupSize: Int = SegmentWriter.defaultRowGroupSize
    /// Spans per block of the producers' queue and the memtable (`SpanQueue`); small in tests.
    public var blockRows: Int = SpanRecords.blockRows
    /// ... or bytes of records per block: big blocks suit a batch import, a server keeps small ones.
    public var blockBytes: Int = SpanRecords.blockBytes
    /// Emptied blocks (about 17 MiB each when full) kept warm for reuse; more are freed. Batch
    /// ingest wants many; a server keeps few, so a burst's blocks do not stay resident.
    public var blockPoolLimit: Int = 24
    /// Gives free heap pages back to the system after each maintenance run (`MemoryTuning.releaseFree`).
    public var releaseMemoryAfterMaintenance = false
    /// Spans waiting for the WAL beyond this are dropped (and counted) rather than block a producer.
    public var maxPendingSpans: Int = 4_000_000
    public var compaction: Bool = true
    /// Segments under this many rows are merged, oldest first, into segments of about `compactionTargetRows`.
    public var compactionTargetRows: Int = 2_000_000
    public var compactionMinSegments: Int = 4
    /// Spans older than this (by ts_start, microseconds) are deleted; nil keeps them forever.
    public var retentionMicros: Int64? = nil
    /// Bodies older than this are deleted (their spans stay); nil keeps them as long as the spans.
    public var bodyRetentionMicros: Int64? = nil
    /// Bodies larger than this are not stored (WAL frames and body blocks stay far below their
    /// 1 GiB limits); the span is kept with its byte counts.
    public var maxBodyBytes: Int = 64 << 20
    /// Compaction and retention leave alone the segments an active exporter has not sent
    /// (catalog `export_cursors`), unless its oldest unsent segment is older than this; nil
    /// waits forever. Config key `export_max_lag`.
    public var exportMaxLagMicros: Int64? = 86_400_000_000
    /// How often compaction and retention run, in seconds.
    public var maintenanceInterval: Double = 10

    public init() {}
}
