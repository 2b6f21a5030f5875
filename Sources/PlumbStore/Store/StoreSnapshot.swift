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

extension StoreReader {
    /// A snapshot of the segments overlapping `[from, to]` (ts_start, microseconds) and of the
    /// unpublished spans (all of them: the WAL has no index by time).
    public func snapshot(from: Int64 = .min, to: Int64 = .max) throws -> StoreSnapshot {
        var problems: [String] = []
        var lastPublished: UInt64? = nil
        for attempt in 0..<8 {
            let (live, published, cutoff) = try catalog.db.readTransaction {
                (try catalog.liveSegments(), try catalog.publishedSeq(), try catalog.retentionCutoff())
            }
            // Readers kept for earlier queries of segments no longer live can go.
            SegmentReaderCache.shared.retain(only: Set(live.map { directory.segment($0.file) }))
            let records = live.filter { $0.tsMax >= from && $0.tsMin <= to }
            var opened: [(SegmentRecord, SegmentReader)] = []
            var vanished = false
            for r in records {
                let path = directory.segment(r.file)
                do { opened.append((r, try SegmentReaderCache.shared.reader(path))) } catch {
                    if !FileSystem.exists(path) { vanished = true; break }
                    problems.append("\(error) (segment set aside)")
                }
            }
            let tail = WriteAheadLog.tail(directory: directory.wal, after: published)
            let gapIsReal = tail.missedPublish && lastPublished == published
            lastPublished = published
            if (vanished || (tail.missedPublish && !gapIsReal)) && attempt < 7 { problems = []; continue }
            return StoreSnapshot(segments: opened, unpublished: tail.spans, retentionCutoff: cutoff, problems: problems)
        }
        return StoreSnapshot(segments: [], unpublished: [], retentionCutoff: .min, problems: problems)
    }
}
