import PlumbStore

extension QueryExecutor {
    /// A plain `SELECT ... FROM spans [WHERE ...]` whose result batches are turned into `T` by
    /// `transform` on the scan threads (the select list evaluated there too), and handed to
    /// `consume` on this thread in row-group order, then those of spans not yet in a segment.
    /// For callers that reduce a scan themselves (`IncidentDetector`), so that only their
    /// cheapest step runs on one thread.
    func map<T: Sendable>(_ transform: @escaping @Sendable (Batch) throws -> T, _ consume: (T) throws -> Void) throws {
        let q = query
        guard q.aggregate == nil, q.order.isEmpty, !q.distinct, q.limit == nil, q.offset == 0, q.hasFrom,
              !q.scanColumns.contains(where: { StoreScan.bodyColumns.contains($0) }) else {
            throw QueryError("map needs a plain SELECT FROM spans without bodies, aggregates, ORDER BY, DISTINCT or LIMIT")
        }
        guard let snapshot else { return }
        let scan = StoreScan(snapshot: snapshot, columns: q.scanColumns, predicates: predicates, filter: q.filter, directory: directory)
        scan.columnCache = columnCache
        let projections = q.projections
        let project: @Sendable (Batch) throws -> Batch = { b in
            Batch(columns: try projections.map { try Evaluator.evaluate($0, b) }, count: b.count)
        }
        try scan.scan(threads: threads, reuse: nil, reduce: { _, batch in try batch.map { try transform(project($0)) } },
                      rowGroup: { _, t in try t.map(consume); return true },
                      unpublished: { try consume(transform(project($0))); return true })
        stats = scan.stats
    }
}
