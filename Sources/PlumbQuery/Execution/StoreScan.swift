import PlumbCore
import PlumbStore

/// Reads the columns a query needs from one snapshot of the store, row group by row group,
/// skipping segments and row groups whose zone maps refute the query's predicates, then the
/// spans still in the WAL. Body columns are not read here: the batch carries each row's
/// `BodyRef`, and `BodyFetch` reads bodies only for the rows that get that far.
///
/// ```swift
/// let scan = StoreScan(snapshot: snap, columns: ["model", "cost_usd"], predicates: preds)
/// try scan.run { batch in ...; return true }       // false stops the scan
/// ```
public final class StoreScan {
    let snapshot: StoreSnapshot
    let columns: [String]
    let predicates: [ZonePredicate]
    public private(set) var stats = ScanStats()

    public init(snapshot: StoreSnapshot, columns: [String], predicates: [ZonePredicate]) {
        self.snapshot = snapshot; self.columns = columns; self.predicates = predicates
    }

    static let bodyColumns: Set<String> = ["request_body", "response_body"]
    var needsBodies: Bool { columns.contains { Self.bodyColumns.contains($0) } }

    /// The row groups to read in each segment (after zone maps), and the counts for EXPLAIN.
    public func plan() -> [(segment: SegmentReader, tsMin: Int64, rowGroups: [Int])] {
        var out: [(SegmentReader, Int64, [Int])] = []
        var s = ScanStats()
        for (record, seg) in snapshot.segments {
            s.segments += 1
            let f = seg.footer
            let cols = predicates.map { f.columnIndex($0.column) }
            let fileOK = zip(predicates, cols).allSatisfy { p, c in c.map { p.mayMatch(f.fileZones[$0]) } ?? true }
            guard fileOK, record.tsMax >= snapshot.retentionCutoff else {
                s.segmentsSkipped += 1; s.rowGroups += f.rowGroups.count; s.rowGroupsSkipped += f.rowGroups.count
                continue
            }
            var groups: [Int] = []
            for (g, rg) in f.rowGroups.enumerated() {
                s.rowGroups += 1
                if zip(predicates, cols).allSatisfy({ p, c in c.map { p.mayMatch(rg.pages[$0].zone) } ?? true }) {
                    groups.append(g)
                } else { s.rowGroupsSkipped += 1 }
            }
            if groups.isEmpty { s.segmentsSkipped += 1 }
            out.append((seg, record.tsMin, groups))
        }
        s.unpublishedRows = snapshot.unpublished.count
        stats = s
        return out
    }

    public func run(_ visit: (Batch) throws -> Bool) throws {
        let cutoff = snapshot.retentionCutoff
        for (seg, tsMin, groups) in plan() {
            let f = seg.footer
            for g in groups {
                var batch = try read(seg, rowGroup: g)
                stats.rowsRead += batch.count
                if tsMin < cutoff, let ts = f.columnIndex("ts_start") {
                    guard case .int(let t) = try seg.read(rowGroup: g, column: ts).values else { continue }
                    batch = batch.gather(t.indices.filter { t[$0] >= cutoff })
                }
                if batch.count > 0, try !visit(batch) { return }
            }
        }
        let live = snapshot.unpublished.filter { $0.tsStart >= cutoff }
        var start = 0
        while start < live.count {
            let chunk = Array(live[start..<min(live.count, start + 65_536)])
            start += chunk.count
            stats.rowsRead += chunk.count
            if try !visit(unpublishedBatch(chunk)) { return }
        }
    }

    func read(_ seg: SegmentReader, rowGroup g: Int) throws -> Batch {
        let rows = seg.footer.rowGroups[g].rowCount
        var vectors: [Vector] = []
        for name in columns {
            if Self.bodyColumns.contains(name) {
                vectors.append(Vector(type: .varchar, data: .string([]), validity: nil))     // filled by BodyFetch
                continue
            }
            guard let c = seg.footer.columnIndex(name), let d = SpanSchema.index(of: name) else {
                vectors.append(.constant(.null, type: SQLType(SpanSchema.columns[SpanSchema.index(of: name)!].type), count: rows))
                continue
            }
            vectors.append(Vector(try seg.read(rowGroup: g, column: c), type: SQLType(SpanSchema.columns[d].type)))
        }
        var batch = Batch(columns: vectors, count: rows)
        if needsBodies { batch.bodyRefs = try bodyRefs(seg, rowGroup: g, rows: rows) }
        return batch
    }

    func bodyRefs(_ seg: SegmentReader, rowGroup g: Int, rows: Int) throws -> [BodyRef?] {
        func col(_ name: String) throws -> ColumnVector? {
            guard let c = seg.footer.columnIndex(name) else { return nil }
            return try seg.read(rowGroup: g, column: c)
        }
        guard let file = try col("_body_file"), let block = try col("_body_block"), let off = try col("_body_offset"),
              let req = try col("_body_request_len"), let resp = try col("_body_response_len"),
              case .int(let fv) = file.values, case .int(let bv) = block.values, case .int(let ov) = off.values,
              case .int(let rq) = req.values, case .int(let rs) = resp.values
        else { return [BodyRef?](repeating: nil, count: rows) }
        return (0..<rows).map { r in
            if file.isNull(r) || block.isNull(r) || off.isNull(r) { return nil }
            return BodyRef(file: fv[r], block: bv[r], offset: ov[r], requestLength: req.isNull(r) ? nil : rq[r],
                           responseLength: resp.isNull(r) ? nil : rs[r])
        }
    }

    /// Unpublished spans as a batch; their bodies are in hand, so body columns are filled now.
    func unpublishedBatch(_ spans: [Span]) -> Batch {
        let all = SpanColumns.columns(of: spans)
        let vectors: [Vector] = columns.map { name in
            switch name {
            case "request_body": return Vector.from(spans.map { $0.requestBody.map(Value.string) ?? .null }, type: .varchar)
            case "response_body": return Vector.from(spans.map { $0.responseBody.map(Value.string) ?? .null }, type: .varchar)
            default:
                let i = SegmentSchema.index(of: name)!
                return Vector(all[i], type: SQLType(SpanSchema.columns[SpanSchema.index(of: name)!].type))
            }
        }
        return Batch(columns: vectors, count: spans.count)
    }
}

extension Vector {
    /// A stored column as a query vector.
    init(_ c: ColumnVector, type: SQLType) {
        switch c.values {
        case .int(let v): self.init(type: type, data: .int(v), validity: c.validity)
        case .double(let v): self.init(type: type, data: .double(v), validity: c.validity)
        case .bool(let v): self.init(type: type, data: .bool(v), validity: c.validity)
        case .string(let v): self.init(type: type, data: .string(v), validity: c.validity)
        case .map(let v): self.init(type: type, data: .map(v), validity: c.validity)
        }
    }
}
