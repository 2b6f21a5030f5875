import PlumbCore

/// What a reader sees of a data directory at one instant, before any segment is opened: the
/// live segments' records, the retention cutoff and the spans still in the WAL. Queries that
/// must agree with each other (a dashboard frame's panels) take their snapshots from one view,
/// so the catalog is read and the WAL tailed once per frame instead of once per query.
///
/// ```swift
/// let view = try StoreReader(directory: dir).view()
/// let lastHour = try view.snapshot(from: hourAgo, to: .max)    // nil: a segment went; take a new view
/// ```
public struct StoreView: Sendable {
    public let directory: DataDirectory
    /// The live segments' records, in the catalog's order.
    public let live: [SegmentRecord]
    /// Spans with ts_start before this are past retention.
    public let retentionCutoff: Int64
    /// Spans not yet in a segment (with their bodies), in arrival order.
    public let unpublished: [Span]

    /// The segments overlapping `[from, to]` (ts_start, microseconds), opened, and every
    /// unpublished span; nil when a segment's file is gone (compaction replaced it after the
    /// view was taken), which a newer view will not name.
    public func snapshot(from: Int64 = .min, to: Int64 = .max) throws -> StoreSnapshot? {
        var opened: [(SegmentRecord, SegmentReader)] = []
        var problems: [String] = []
        for r in live where r.tsMax >= from && r.tsMin <= to {
            let path = directory.segment(r.file)
            do { opened.append((r, try SegmentReaderCache.shared.reader(path))) } catch {
                if !FileSystem.exists(path) { return nil }
                problems.append("\(error) (segment set aside)")
            }
        }
        return StoreSnapshot(segments: opened, unpublished: unpublished, retentionCutoff: retentionCutoff, problems: problems)
    }
}

extension StoreReader {
    /// The catalog's live segments and the WAL's spans beyond what it published, read
    /// consistently: a WAL file released between the two reads (a publish in between) makes
    /// it read both again; a gap that stays across two reads of the same catalog is real.
    public func view() throws -> StoreView {
        var lastPublished: UInt64? = nil
        var attempt = 1
        while true {
            let (live, published, cutoff) = try catalog.db.readTransaction {
                (try catalog.liveSegments(), try catalog.publishedSeq(), try catalog.retentionCutoff())
            }
            // Readers kept for earlier queries of segments no longer live can go.
            SegmentReaderCache.shared.retain(only: Set(live.map { directory.segment($0.file) }))
            let tail = WriteAheadLog.tail(directory: directory.wal, after: published)
            let gapIsReal = tail.missedPublish && lastPublished == published
            lastPublished = published
            if tail.missedPublish && !gapIsReal && attempt < 8 { attempt += 1; continue }
            return StoreView(directory: directory, live: live, retentionCutoff: cutoff, unpublished: tail.spans)
        }
    }

    /// The live segments and the retention cutoff, without the WAL (for a reader of segments
    /// alone, such as the rollup writer): tailing the WAL decodes every unpublished span, and
    /// in a serving process at full rate that was ~20 MB of spans every round, thrown away.
    public func segmentsView() throws -> StoreView {
        let (live, cutoff) = try catalog.db.readTransaction { (try catalog.liveSegments(), try catalog.retentionCutoff()) }
        SegmentReaderCache.shared.retain(only: Set(live.map { directory.segment($0.file) }))
        return StoreView(directory: directory, live: live, retentionCutoff: cutoff, unpublished: [])
    }

    /// A snapshot of the segments overlapping `[from, to]` (ts_start, microseconds) and of the
    /// unpublished spans (all of them: the WAL has no index by time).
    public func snapshot(from: Int64 = .min, to: Int64 = .max) throws -> StoreSnapshot {
        for _ in 0..<8 {
            if let snap = try view().snapshot(from: from, to: to) { return snap }
        }
        throw SegmentsKeptVanishing(path: directory.path)
    }

    public struct SegmentsKeptVanishing: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "segments of \(path) were replaced faster than they could be opened (8 tries); try again"
        }
    }
}
