import PlumbCore

/// One consistent view of a data directory for a reader: the live segments of one catalog
/// snapshot, opened (an open file stays readable after compaction deletes it), and the spans the
/// WAL holds beyond that snapshot's `published_seq`. Every span appears exactly once.
///
/// ```swift
/// let snap = try reader.snapshot(from: dayStart, to: .max)
/// for (record, segment) in snap.segments { ... }
/// for span in snap.unpublished { ... }
/// ```
public struct StoreSnapshot: Sendable {
    public var segments: [(record: SegmentRecord, reader: SegmentReader)]
    /// Spans not yet in a segment (with their bodies), in arrival order.
    public var unpublished: [Span]
    /// Spans with ts_start before this are past retention and must be skipped.
    public var retentionCutoff: Int64
    /// Segments set aside because they failed their checks.
    public var problems: [String]
}
