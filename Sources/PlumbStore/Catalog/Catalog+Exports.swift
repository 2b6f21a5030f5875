import PlumbCore

/// Where an exporter stands: the level-0 segment it reads next and how many of its rows the
/// receiver has acknowledged. Level-0 segments are the publisher's, one per cut of the WAL, in
/// id order; compaction and retention leave them alone until every active exporter is past them
/// (`Catalog.exportFloor`), so a cursor always names rows that still exist.
public struct ExportCursor: Sendable, Equatable {
    /// The level-0 segment whose rows come next.
    public var segmentID: Int64
    /// Rows of `segmentID` already acknowledged.
    public var rowOffset: Int64
    /// Spans acknowledged since the exporter was first configured.
    public var spansAcked: Int64
    /// ts_end of the newest span acknowledged (microseconds; 0 before the first).
    public var ackedTs: Int64

    public init(segmentID: Int64, rowOffset: Int64 = 0, spansAcked: Int64 = 0, ackedTs: Int64 = 0) {
        self.segmentID = segmentID; self.rowOffset = rowOffset; self.spansAcked = spansAcked; self.ackedTs = ackedTs
    }
}

/// The exporters' cursors, one row per exporter name, in the catalog: a restart or a kill -9
/// resumes at the last acknowledged batch.
///
/// ```swift
/// let start = try catalog.exportCursor("otlp") ?? catalog.newExportCursor("otlp")
/// try catalog.saveExportCursor("otlp", ExportCursor(segmentID: 42, rowOffset: 1_000))
/// ```
extension Catalog {
    func ensureExportTable() throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS export_cursors(
              exporter TEXT PRIMARY KEY, segment_id INTEGER NOT NULL, row_offset INTEGER NOT NULL,
              spans_acked INTEGER NOT NULL, acked_ts INTEGER NOT NULL, active INTEGER NOT NULL DEFAULT 1,
              updated_at INTEGER NOT NULL)
            """)
    }

    private func hasExportTable() throws -> Bool {
        try !db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'export_cursors'") { $0.int(0) }.isEmpty
    }

    public func exportCursor(_ exporter: String) throws -> ExportCursor? {
        guard try hasExportTable() else { return nil }
        return try db.query("SELECT segment_id, row_offset, spans_acked, acked_ts FROM export_cursors WHERE exporter = ?",
                            [.text(exporter)]) {
            ExportCursor(segmentID: $0.int(0), rowOffset: $0.int(1), spansAcked: $0.int(2), ackedTs: $0.int(3))
        }.first
    }

    /// A cursor for an exporter configured for the first time: it starts with the spans stored
    /// from now on (older ones go with `plumb export --since`). Marks the exporter active.
    public func newExportCursor(_ exporter: String) throws -> ExportCursor {
        try ensureExportTable()
        return try db.transaction {
            if let existing = try exportCursor(exporter) {
                // Running again: it is moving, whatever its last save's age (see `exportFloor`).
                try db.run("UPDATE export_cursors SET active = 1, updated_at = ? WHERE exporter = ?",
                           [.int(Timestamp.nowMicros()), .text(exporter)])
                return existing
            }
            let next = try db.query("SELECT coalesce(max(id), 0) + 1 FROM segments") { $0.int(0) }.first ?? 1
            let c = ExportCursor(segmentID: next)
            try write(exporter, c)
            return c
        }
    }

    public func saveExportCursor(_ exporter: String, _ c: ExportCursor) throws {
        try ensureExportTable()
        try write(exporter, c)
    }

    private func write(_ exporter: String, _ c: ExportCursor) throws {
        try db.run("""
            INSERT INTO export_cursors(exporter, segment_id, row_offset, spans_acked, acked_ts, active, updated_at)
            VALUES (?, ?, ?, ?, ?, 1, ?)
            ON CONFLICT(exporter) DO UPDATE SET segment_id = excluded.segment_id, row_offset = excluded.row_offset,
              spans_acked = excluded.spans_acked, acked_ts = excluded.acked_ts, active = 1, updated_at = excluded.updated_at
            """, [.text(exporter), .int(c.segmentID), .int(c.rowOffset), .int(c.spansAcked), .int(c.ackedTs), .int(Timestamp.nowMicros())])
    }

    /// Exporters no longer configured stop holding back compaction and retention (their
    /// cursors stay, so configuring one again resumes where it stopped).
    public func retireExporters(except names: Set<String>) throws {
        guard try hasExportTable() else { return }
        for name in try db.query("SELECT exporter FROM export_cursors WHERE active = 1", row: { $0.text(0) }) where !names.contains(name) {
            try db.run("UPDATE export_cursors SET active = 0 WHERE exporter = ?", [.text(name)])
        }
    }

    /// Active exporters, their cursors and when each last moved (saved or started).
    public func activeExportCursors() throws -> [(exporter: String, cursor: ExportCursor, updatedAt: Int64)] {
        guard try hasExportTable() else { return [] }
        return try db.query("SELECT exporter, segment_id, row_offset, spans_acked, acked_ts, updated_at FROM export_cursors WHERE active = 1 ORDER BY exporter") {
            ($0.text(0), ExportCursor(segmentID: $0.int(1), rowOffset: $0.int(2), spansAcked: $0.int(3), ackedTs: $0.int(4)), $0.int(5))
        }
    }

    /// Level-0 segments at or after `segmentID` that are live, oldest first.
    public func liveLevelZeroSegments(from segmentID: Int64, limit: Int = 64) throws -> [SegmentRecord] {
        try db.query("SELECT \(Self.columns) FROM segments WHERE state = 'live' AND level = 0 AND id >= ? ORDER BY id LIMIT ?",
                     [.int(segmentID), .int(Int64(limit))], row: Self.record)
    }

    /// Rows of level-0 segments in `[from, to)` that are no longer live (compacted or expired
    /// while an exporter was too far behind to hold them back, or set aside as damaged).
    public func lostLevelZeroRows(from: Int64, to: Int64) throws -> Int64 {
        try db.query("SELECT coalesce(sum(rows), 0) FROM segments WHERE state != 'live' AND level = 0 AND id >= ? AND id < ?",
                     [.int(from), .int(to)]) { $0.int(0) }.first ?? 0
    }

    /// Spans in live level-0 segments from `cursor` on (what an exporter has still to send of
    /// what is published), the time range of those segments, and when the oldest was published.
    public func pendingRows(after cursor: ExportCursor) throws -> (rows: Int64, tsMin: Int64?, tsMax: Int64?, oldestCreatedAt: Int64?) {
        let r = try db.query("""
            SELECT coalesce(sum(rows), 0), min(ts_min), max(ts_max), min(created_at) FROM segments
            WHERE state = 'live' AND level = 0 AND id >= ?
            """, [.int(cursor.segmentID)]) { ($0.int(0), $0.optionalInt(1), $0.optionalInt(2), $0.optionalInt(3)) }.first ?? (0, nil, nil, nil)
        let own = try db.query("SELECT 1 FROM segments WHERE id = ? AND state = 'live' AND level = 0", [.int(cursor.segmentID)]) { $0.int(0) }
        return (max(0, r.0 - (own.isEmpty ? 0 : cursor.rowOffset)), r.1, r.2, r.3)
    }

    /// The lowest segment id any active exporter still needs; nil when none needs anything. An
    /// exporter holds nothing back once it is stuck: its oldest unsent segment was published
    /// more than `maxLag` microseconds ago and it has not moved (saved a batch, or started) for
    /// as long. One that is behind but sending, or that was just started after a long stop,
    /// keeps its segments.
    public func exportFloor(now: Int64, maxLag: Int64?) throws -> Int64? {
        var floor: Int64? = nil
        for (_, c, updatedAt) in try activeExportCursors() {
            if let maxLag, now - updatedAt > maxLag, let oldest = try pendingRows(after: c).oldestCreatedAt, now - oldest > maxLag { continue }
            floor = min(floor ?? c.segmentID, c.segmentID)
        }
        return floor
    }
}
