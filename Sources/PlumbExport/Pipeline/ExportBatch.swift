import PlumbCore

/// Spans an exporter sends in one request: consecutive rows of one level-0 segment, so that the
/// same rows make the same batch again after a restart (receivers that deduplicate by batch,
/// such as ClickHouse's insert tokens, drop the repeat).
public struct ExportBatch: Sendable {
    public var spans: [Span]
    /// The data directory's installation id (`Catalog.installationID`).
    public var installation: String
    public var segmentID: Int64
    public var rows: Range<Int64>

    public init(spans: [Span], installation: String, segmentID: Int64, rows: Range<Int64>) {
        self.spans = spans; self.installation = installation; self.segmentID = segmentID; self.rows = rows
    }

    /// Names the batch for insert deduplication: a hash of its span ids, so the same spans make
    /// the same token however they were cut (after a restart) and different spans never share
    /// one (a backfill that filters by time sends other rows of the same segment).
    public var token: String {
        var ids: [UInt8] = []
        ids.reserveCapacity(spans.count * 33)
        for s in spans { ids += s.spanID.utf8; ids.append(0x0A) }
        return "plumb-" + String(SHA256.hex(ids).prefix(40))
    }

    public var label: String { "\(spans.count) spans (segment \(segmentID), rows \(rows.lowerBound)..<\(rows.upperBound))" }
}
