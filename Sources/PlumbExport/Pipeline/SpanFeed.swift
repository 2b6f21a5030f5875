import PlumbCore
import PlumbStore

/// Reads an exporter's next batch from the local store: the rows after its cursor in the
/// level-0 segments (the publisher's, in id order), one row group decoded at a time, bodies
/// only when the sink wants them.
///
/// ```swift
/// var feed = SpanFeed(directory: dir, catalog: catalog, includeBodies: false, maxBatch: 1_000, installation: id)
/// if let next = try feed.next(after: cursor) { ... send next.batch, then save next.cursor ... }
/// ```
struct SpanFeed {
    let directory: DataDirectory
    let catalog: Catalog
    let includeBodies: Bool
    let maxBatch: Int
    let installation: String

    /// The row group decoded last, kept for the batches that follow in it.
    private var decoded: (segment: Int64, group: Int, firstRow: Int64, spans: [Span], refs: [BodyRef?])?
    private var reader: (segment: Int64, reader: SegmentReader)?
    private let bodies: BodyReader

    init(directory: DataDirectory, catalog: Catalog, includeBodies: Bool, maxBatch: Int, installation: String) {
        self.directory = directory; self.catalog = catalog; self.includeBodies = includeBodies
        self.maxBatch = max(1, maxBatch); self.installation = installation
        bodies = BodyReader(directory: directory)
    }

    struct Next {
        var batch: ExportBatch
        /// The cursor once the batch is acknowledged.
        var cursor: ExportCursor
        /// Rows of segments that went before they were sent (see `Catalog.lostLevelZeroRows`).
        var lost: Int64
    }

    /// The batch after `cursor`, nil when every published span has been sent. A segment that
    /// fails its checks is skipped (its rows counted as lost), as readers skip it.
    mutating func next(after cursor: ExportCursor) throws -> Next? {
        var cursor = cursor
        var lost: Int64 = 0
        for record in try catalog.liveLevelZeroSegments(from: cursor.segmentID, limit: 8) {
            if record.id != cursor.segmentID {
                // Segments between the cursor and this one are gone: count what was in them.
                lost += try catalog.lostLevelZeroRows(from: cursor.segmentID, to: record.id) - cursor.rowOffset
                cursor.segmentID = record.id; cursor.rowOffset = 0
            }
            if cursor.rowOffset >= record.rows { cursor.segmentID += 1; cursor.rowOffset = 0; continue }
            do {
                let (firstRow, spans, refs) = try rowGroup(of: record, containing: cursor.rowOffset)
                let start = Int(cursor.rowOffset - firstRow)
                let end = min(spans.count, start + maxBatch)
                var picked = Array(spans[start..<end])
                if includeBodies {
                    // An expired body file reads as no body.
                    for i in picked.indices {
                        if let ref = refs[start + i] { (picked[i].requestBody, picked[i].responseBody) = bodies.read(ref) }
                    }
                }
                let rows = cursor.rowOffset..<(cursor.rowOffset + Int64(end - start))
                var after = cursor
                after.rowOffset = rows.upperBound
                if after.rowOffset >= record.rows { after.segmentID = record.id + 1; after.rowOffset = 0 }
                after.spansAcked += Int64(picked.count)
                after.ackedTs = max(cursor.ackedTs, picked.map(\.tsStart).max() ?? 0)
                return Next(batch: ExportBatch(spans: picked, installation: installation, segmentID: record.id, rows: rows),
                            cursor: after, lost: max(0, lost))
            } catch let e as SegmentError where !e.isTransient {
                lost += record.rows - cursor.rowOffset
                cursor.segmentID = record.id + 1; cursor.rowOffset = 0
                decoded = nil; reader = nil
                continue
            }
        }
        // Nothing to send, but segments were passed over: the caller saves the new cursor.
        if lost > 0 { return Next(batch: ExportBatch(spans: [], installation: installation, segmentID: cursor.segmentID, rows: 0..<0), cursor: cursor, lost: lost) }
        return nil
    }

    private mutating func rowGroup(of record: SegmentRecord, containing row: Int64) throws -> (Int64, [Span], [BodyRef?]) {
        let r: SegmentReader
        if let open = reader, open.segment == record.id { r = open.reader } else {
            r = try SegmentReader(path: directory.segment(record.file))
            reader = (record.id, r)
            decoded = nil
        }
        var first: Int64 = 0
        for (g, info) in r.footer.rowGroups.enumerated() {
            let n = Int64(info.rowCount)
            if row < first + n {
                if let d = decoded, d.segment == record.id, d.group == g { return (d.firstRow, d.spans, d.refs) }
                let (spans, refs) = try SpanColumns.spans(from: try r.allColumns(rowGroup: g))
                decoded = (record.id, g, first, spans, refs)
                return (first, spans, refs)
            }
            first += n
        }
        throw SegmentError(path: r.path, reason: "row \(row) is past the segment's \(first) rows")
    }
}
