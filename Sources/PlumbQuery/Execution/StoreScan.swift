import PlumbCore
import PlumbStore

/// Reads the columns a query needs from one snapshot of the store, row group by row group,
/// skipping segments and row groups whose zone maps refute the query's predicates, then the
/// spans still in the WAL. The WHERE clause is applied here, on its own columns first: the
/// other columns of a row group are read only if some row passed. Body columns are read by
/// `BodyFetch`, only for the rows that get that far.
///
/// ```swift
/// let scan = StoreScan(snapshot: snap, columns: ["model", "cost_usd"], predicates: preds)
/// try scan.run { batch in ...; return true }       // false stops the scan
/// ```
/// `@unchecked Sendable`: worker threads call `load`, which reads only immutable state (the
/// snapshot, the columns, the filter); `stats` and `bodies` are touched by the caller's thread only.
public final class StoreScan: @unchecked Sendable {
    let snapshot: StoreSnapshot
    let columns: [String]
    let predicates: [ZonePredicate]
    let filter: BoundExpr?
    let bodies: BodyFetch?
    public internal(set) var stats = ScanStats()
    /// Where whole decoded columns are kept between queries (nil: none kept).
    var columnCache: ColumnCache?
    /// The filter only chooses row groups (by zone maps); their rows are all kept (spans not
    /// yet in a segment are still filtered).
    var wholeRowGroups = false
    /// Checked before each row group (nil: no limit).
    var deadline: QueryDeadline?
    /// The filter's AND terms and the zone predicates they imply: a term whose predicate a row
    /// group's zone map proves true for every row is not evaluated there.
    let terms: [(term: BoundExpr, predicate: ZonePredicate?)]

    public init(snapshot: StoreSnapshot, columns: [String], predicates: [ZonePredicate], filter: BoundExpr? = nil,
                directory: DataDirectory? = nil) {
        self.snapshot = snapshot; self.columns = columns; self.predicates = predicates; self.filter = filter
        bodies = directory.map { BodyFetch(directory: $0, columns: columns) }
        terms = ZonePredicate.terms(of: filter, columns: columns)
    }

    static let bodyColumns: Set<String> = ["request_body", "response_body"]

    /// The span id every kept row must have (`span_id = '…'` among the AND terms), for the
    /// row groups' span-id filters.
    var spanIDEquality: String? {
        for p in predicates where p.column == "span_id" && p.isNull == nil {
            if let (lo, li) = p.lower, let (hi, hiInc) = p.upper, li, hiInc, case .string(let a) = lo, case .string(let b) = hi, a == b { return a }
        }
        return nil
    }
    var needsBodies: Bool { columns.contains { Self.bodyColumns.contains($0) } }

    /// The row groups to read in each segment (after zone maps), and the counts for EXPLAIN.
    public func plan() -> [(segment: SegmentReader, tsMin: Int64, rowGroups: [Int], hash: String)] {
        var out: [(SegmentReader, Int64, [Int], String)] = []
        var s = ScanStats()
        let idHash = spanIDEquality.map { SplitBlockBloomFilter.hash($0) }
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
                    // A filter that cannot be read rules nothing out: the scan reads the row group and reports it.
                    if let idHash, (try? seg.mayContain(spanIDHash: idHash, rowGroup: g)) == false {
                        s.rowGroupsSkipped += 1; s.rowGroupsSkippedByFilter += 1
                    } else { groups.append(g) }
                } else { s.rowGroupsSkipped += 1 }
            }
            if groups.isEmpty { s.segmentsSkipped += 1 }
            out.append((seg, record.tsMin, groups, record.sha256))
        }
        s.unpublishedRows = snapshot.unpublished.count
        stats = s
        return out
    }

    /// One row group to read.
    struct Item: @unchecked Sendable {
        var segment: SegmentReader
        var tsMin: Int64
        var group: Int
        /// The segment file's SHA-256 (its content, whatever its name).
        var hash: String
        /// The row group by content: segment hash and row group.
        var key: String { "\(hash)#\(group)" }
    }

    /// Row groups are loaded (read, decoded, filtered) on `threads` worker threads and handed to
    /// `visit` in order; `visit` returning false stops the scan. Spans not yet in a segment go
    /// to `visit` last.
    public func run(threads: Int = 1, _ visit: (Batch) throws -> Bool) throws {
        try scan(threads: threads, reuse: nil, reduce: { $1 }, rowGroup: { _, batch in try batch.map(visit) ?? true }, unpublished: visit)
    }

    /// The general scan: each row group kept by the zone maps and not answered by `reuse` (true:
    /// its result is known already, it is not read) is loaded and turned into a `T` by `reduce`
    /// (given nil when no row passed) on the worker threads, then handed to `rowGroup` on this
    /// thread in order (false stops the scan). Spans not yet in a segment go to `unpublished`.
    func scan<T: Sendable>(threads: Int, reuse: ((Item) throws -> Bool)?, reduce: @escaping @Sendable (Item, Batch?) throws -> T,
                           rowGroup: (Item, T) throws -> Bool, unpublished: (Batch) throws -> Bool) throws {
        let planned = plan().flatMap { p in p.rowGroups.map { Item(segment: p.segment, tsMin: p.tsMin, group: $0, hash: p.hash) } }
        let items = try reuse.map { r in try planned.filter { try !r($0) } } ?? planned
        if threads <= 1 || items.count < 2 || filterReadsBodies {
            for item in items {
                try deadline?.check()
                stats.rowsRead += item.segment.footer.rowGroups[item.group].rowCount
                if try !rowGroup(item, try reduce(item, try load(item))) { return }
            }
        } else {
            let pipeline = ScanPipeline(count: items.count, threads: threads) { [self] k in
                try reduce(items[k], try load(items[k]))
            }
            defer { pipeline.finish() }
            for k in items.indices {
                try deadline?.check()
                stats.rowsRead += items[k].segment.footer.rowGroups[items[k].group].rowCount
                if try !rowGroup(items[k], try pipeline.take(k)) { return }
            }
        }
        _ = try scanUnpublished(unpublished)
    }

    /// The spans not yet in a segment, filtered, in batches; false when `visit` stopped.
    func scanUnpublished(_ visit: (Batch) throws -> Bool) throws -> Bool {
        let cutoff = snapshot.retentionCutoff
        let live = snapshot.unpublished.filter { $0.tsStart >= cutoff }
        var start = 0
        while start < live.count {
            let chunk = Array(live[start..<min(live.count, start + 65_536)])
            start += chunk.count
            stats.rowsRead += chunk.count
            try deadline?.check()
            var batch = unpublishedBatch(chunk)
            batch.deadline = deadline
            if let filter { batch = batch.gather(Evaluator.selected(try Evaluator.evaluate(filter, batch))) }
            if batch.count > 0, try !visit(batch) { return false }
        }
        return true
    }

    var filterColumns: Set<Int> { filter?.columnsRead ?? [] }

    /// The filter's terms left to evaluate on a row group: those its zone maps do not prove
    /// true for every row.
    func residualTerms(_ seg: SegmentReader, _ g: Int) -> [BoundExpr] {
        let pages = seg.footer.rowGroups[g].pages
        return terms.filter { t in
            guard let p = t.predicate, let c = seg.footer.columnIndex(p.column) else { return true }
            return !p.alwaysMatches(pages[c].zone)
        }.map(\.term)
    }

    /// What a row group's result depends on besides the query's text: the segment's content,
    /// the row group and its residual filter terms. nil when it depends on more (rows past
    /// retention are cut by the clock).
    func reuseKey(_ item: Item) -> String? {
        guard item.tsMin >= snapshot.retentionCutoff else { return nil }
        return item.key + "|" + BoundExpr.keys(residualTerms(item.segment, item.group))
    }

    var filterReadsBodies: Bool {
        let f = filterColumns
        return columns.enumerated().contains { f.contains($0.offset) && Self.bodyColumns.contains($0.element) }
    }

    /// One row group: rows past retention dropped, the filter applied on its own columns, then the
    /// other columns read for the rows that passed. nil when no row is left. Safe to call from
    /// several threads at once (unless the filter reads bodies).
    func load(_ item: Item) throws -> Batch? {
        let seg = item.segment, tsMin = item.tsMin, g = item.group
        let cutoff = snapshot.retentionCutoff
        let rows = seg.footer.rowGroups[g].rowCount
        let residual = wholeRowGroups ? [] : residualTerms(seg, g)
        let filterColumns = residual.reduce(into: Set<Int>()) { $0.formUnion($1.columnsRead) }
        var keep: [Int]? = nil
        if tsMin < cutoff, let ts = seg.footer.columnIndex("ts_start") {
            guard case .int(let t) = try seg.read(rowGroup: g, column: ts).values else { return nil }
            keep = t.indices.filter { t[$0] >= cutoff }
            if keep!.isEmpty { return nil }
        }
        var batch = Batch(columns: columns.map { _ in Vector.constant(.null, type: .null, count: rows) }, count: rows)
        batch.deadline = deadline
        if !residual.isEmpty {
            for i in filterColumns { batch.columns[i] = try read(item, i, rows) }
            if filterReadsBodies { batch.bodyRefs = try bodyRefs(seg, rowGroup: g, rows: rows); bodies?.fill(&batch) }
            if let k = keep { batch = batch.gather(k) }
            // The AND terms one after another, each on the rows the ones before it kept.
            var selected: [Int]? = nil
            for term in residual {
                let pass = Evaluator.selected(try Evaluator.evaluate(term, batch))
                if pass.isEmpty { return nil }
                if pass.count < batch.count {
                    batch = batch.gather(pass)
                    selected = selected.map { s in pass.map { s[$0] } } ?? pass
                }
            }
            let positions = selected.map { s in keep.map { k in s.map { k[$0] } } ?? s } ?? keep
            keep = positions.map { $0.count == rows ? nil : $0 } ?? nil
        }
        for i in columns.indices where !filterColumns.contains(i) && !Self.bodyColumns.contains(columns[i]) {
            batch.columns[i] = try read(item, i, rows, only: keep)
        }
        if needsBodies && batch.bodyRefs == nil && !filterReadsBodies {
            let refs = try bodyRefs(seg, rowGroup: g, rows: rows)
            batch.bodyRefs = keep.map { k in k.map { refs[$0] } } ?? refs
        }
        if let k = keep { batch.count = k.count }
        return batch.count > 0 ? batch : nil
    }

    /// One scan column of a row group as a query vector: only the rows in `only` (all when
    /// nil). Whole columns go through `columnCache`; a part is gathered from a cached whole. A
    /// part of a quarter of the rows or more is read whole to be kept (the row group at the
    /// edge of a dashboard's range is read by every panel, frame after frame); a smaller one
    /// is decoded on its own (strings and maps built just for those rows).
    func read(_ item: Item, _ i: Int, _ rows: Int, only: [Int]? = nil) throws -> Vector {
        guard let cache = columnCache, cache.budget > 0 else { return try decode(item.segment, item.group, i, rows, only: only) }
        let key = item.key + "#" + columns[i]
        if let whole = cache.vector(key) { return only.map { whole.gather($0) } ?? whole }
        if let only, only.count * 4 < rows { return try decode(item.segment, item.group, i, rows, only: only) }
        // Whole columns that no other query is expected to read are not kept; parts are (the
        // range's edge row group is read again each frame).
        if only == nil && !cache.keeps(columns[i]) { return try decode(item.segment, item.group, i, rows) }
        let whole = try decode(item.segment, item.group, i, rows)
        cache.keep(key, whole)
        return only.map { whole.gather($0) } ?? whole
    }

    func decode(_ seg: SegmentReader, _ g: Int, _ i: Int, _ rows: Int, only: [Int]? = nil) throws -> Vector {
        let name = columns[i]
        let n = only?.count ?? rows
        if let (column, key) = ScanName.parseMapKey(name) {
            guard let c = seg.footer.columnIndex(column) else { return .constant(.null, type: .varchar, count: n) }
            let v = Vector(try seg.scanMapKey(rowGroup: g, column: c, key: key), type: .varchar)
            return only.map { v.gather($0) } ?? v
        }
        guard let d = SpanSchema.index(of: name) else { return .constant(.null, type: .null, count: n) }
        let type = SQLType(SpanSchema.columns[d].type)
        guard let c = seg.footer.columnIndex(name) else { return .constant(.null, type: type, count: n) }
        return Vector(try seg.scan(rowGroup: g, column: c, rows: only), type: type)
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
                if let (_, key) = ScanName.parseMapKey(name) {
                    return Vector.from(spans.map { $0.properties[key].map(Value.string) ?? .null }, type: .varchar)
                }
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

    init(_ c: ScanColumn, type: SQLType) {
        switch c {
        case .vector(let v): self.init(v, type: type)
        case .dictionary(let codes, let entries, let validity):
            self.init(type: type, data: .dict(codes: codes, dictionary: entries), validity: validity)
        case .hex(let words, let length, let validity):
            self.init(type: type, data: .hex(HexStrings(words: words, length: length)), validity: validity)
        case .decimal(let scaled, let exponent, let validity):
            self.init(type: type, data: .decimal(DecimalValues(scaled: scaled, exponent: exponent)), validity: validity)
        }
    }
}
