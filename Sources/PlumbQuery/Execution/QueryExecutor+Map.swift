import PlumbStore

extension QueryExecutor {
    /// A plain `SELECT ... FROM spans [WHERE ...]` whose result batches are turned into `T` by
    /// `transform` on the scan threads (the select list evaluated there too), and handed to
    /// `consume` on this thread in row-group order, then those of spans not yet in a segment.
    /// For callers that reduce a scan themselves (`IncidentDetector`), so that only their
    /// cheapest step runs on one thread.
    ///
    /// With `wholeRowGroups`, the WHERE clause only chooses row groups (by their zone maps);
    /// their rows are not filtered, so a row group's result depends on the segment alone and is
    /// given a key (segment SHA-256 and row group; nil for spans not yet in a segment and for
    /// row groups that retention cuts into). A row group whose key `reuse` answers true for is
    /// not read.
    func map<T: Sendable>(wholeRowGroups: Bool = false, reuse: ((String) -> Bool)? = nil,
                          _ transform: @escaping @Sendable (String?, Batch) throws -> T, _ consume: (String?, T) throws -> Void) throws {
        let q = query
        guard q.aggregate == nil, q.order.isEmpty, !q.distinct, q.limit == nil, q.offset == 0, q.hasFrom,
              !q.scanColumns.contains(where: { StoreScan.bodyColumns.contains($0) }) else {
            throw QueryError("map needs a plain SELECT FROM spans without bodies, aggregates, ORDER BY, DISTINCT or LIMIT")
        }
        guard let snapshot else { return }
        let scan = StoreScan(snapshot: snapshot, columns: q.scanColumns, predicates: predicates, filter: q.filter, directory: directory)
        scan.columnCache = columnCache
        scan.wholeRowGroups = wholeRowGroups
        let projections = q.projections
        let project: @Sendable (Batch) throws -> Batch = { b in
            Batch(columns: try projections.map { try Evaluator.evaluate($0, b) }, count: b.count)
        }
        let cutoff = snapshot.retentionCutoff
        let key: @Sendable (StoreScan.Item) -> String? = { item in
            wholeRowGroups && item.tsMin >= cutoff ? item.key : nil
        }
        try scan.scan(threads: threads, reuse: reuse.map { r in { item in key(item).map(r) ?? false } },
                      reduce: { item, batch in try batch.map { try transform(key(item), project($0)) } },
                      rowGroup: { item, t in try t.map { try consume(key(item), $0) }; return true },
                      unpublished: { try consume(nil, transform(nil, project($0))); return true })
        stats = scan.stats
    }
}
