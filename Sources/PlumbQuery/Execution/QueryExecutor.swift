import PlumbStore

/// Runs a bound query over one store snapshot: scan (zone maps pruning segments and row groups),
/// WHERE, then the aggregate or the select list, emitting result batches.
///
/// ```swift
/// let exec = QueryExecutor(query: bound, snapshot: snap, directory: dir)
/// try exec.run { batch in print(batch.count) }
/// ```
public final class QueryExecutor {
    public let query: BoundQuery
    let snapshot: StoreSnapshot?
    let directory: DataDirectory?
    public internal(set) var stats = ScanStats()
    let predicates: [ZonePredicate]
    /// Threads that read and filter row groups while this one aggregates.
    public var threads = QueryEngine.defaultThreads
    /// Where row groups' partial aggregates are kept between runs, under `cacheKey` (the
    /// query's text); nil: none kept.
    public var cache: PartialAggregateCache?
    public var cacheKey = ""
    /// Where row groups' states written beside the segments are read when `cache` has none.
    public var partialRollups: PartialRollups?
    /// Where decoded columns are kept between queries (nil: none).
    public var columnCache: ColumnCache?
    /// Past it the run stops with `QueryDeadline.Exceeded` (nil: no limit).
    public var deadline: QueryDeadline?

    public init(query: BoundQuery, snapshot: StoreSnapshot?, directory: DataDirectory?) {
        self.query = query; self.snapshot = snapshot; self.directory = directory
        predicates = ZonePredicate.derive(from: query.filter, columns: query.scanColumns)
    }

    public var types: [SQLType] { query.projections.map(\.type) }

    func makeSink(prepare: @escaping (inout Batch) -> Void) -> RowSink {
        let q = query
        let noop: (inout Batch) -> Void = { _ in }
        if let plan = q.aggregate {
            let after: RowSink = q.order.isEmpty && !q.distinct
                ? StreamSink(projections: q.projections, offset: q.offset, limit: q.limit, prepare: noop)
                : SortSink(projections: q.projections, order: q.order, distinct: q.distinct, offset: q.offset, limit: q.limit, prepare: noop)
            return AggregateSink(plan: plan, having: q.having, next: after, prepare: prepare)
        }
        if q.order.isEmpty && !q.distinct {
            return StreamSink(projections: q.projections, offset: q.offset, limit: q.limit, prepare: prepare)
        }
        return SortSink(projections: q.projections, order: q.order, distinct: q.distinct, offset: q.offset, limit: q.limit, prepare: prepare)
    }

    public func run(_ emit: @escaping (Batch) throws -> Void) throws {
        let q = query
        let fetch = directory.map { BodyFetch(directory: $0, columns: q.scanColumns) }
        let sink = makeSink { b in fetch?.fill(&b) }
        (sink as? StreamSink)?.emitNow = emit
        if q.limit == 0 && q.aggregate == nil {
            // Nothing to read.
        } else if !q.hasFrom {
            var b = Batch(columns: [], count: 1)
            if let f = q.filter { b = b.gather(Evaluator.selected(try Evaluator.evaluate(f, b))) }
            if b.count > 0 { _ = try sink.consume(b) }
        } else if let snapshot {
            // The scan applies WHERE itself (reading the filter's columns first).
            let scan = StoreScan(snapshot: snapshot, columns: q.scanColumns, predicates: predicates, filter: q.filter, directory: directory)
            scan.columnCache = columnCache
            scan.deadline = deadline
            if let aggregate = sink as? AggregateSink, AggregateState.mergeable(aggregate.plan), cache != nil || threads > 1 {
                try runPartials(scan, aggregate, cache)
            } else if let sort = sink as? SortSink, q.limit != nil, !q.distinct, let first = q.order.first,
                      case .column(let i, let type) = first.expr, [.bigint, .double, .timestamp].contains(type),
                      !StoreScan.bodyColumns.contains(q.scanColumns[i]) {
                try scan.scanTopK(column: q.scanColumns[i], descending: first.descending, bound: { sort.firstKeyBound() }) { try sort.consume($0) }
            } else {
                try scan.run(threads: threads) { try sink.consume($0) }
            }
            stats = scan.stats
        }
        try sink.finish(emit)
    }

    /// What a row group's state is kept under besides the row group: the query's text and the
    /// keys' and aggregates' bound form (constants such as now() folded in).
    static func partialKey(_ sql: String, _ plan: AggregatePlan) -> String {
        sql + "\u{0}" + BoundExpr.keys(plan.keys) + "\u{0}" + plan.aggregates.map(\.key).joined(separator: " ")
    }

    /// A row group's own aggregate state, built on a scan thread (nil: no row passed).
    struct Partial: @unchecked Sendable {
        var state: AggregateState?
        /// Instead of a state, when the plan takes batches by dictionary entry and no cache keeps states.
        var entries: EntryPartial? = nil
    }

    /// The aggregate computed per row group on the scan threads, each row group's state merged
    /// into the result here in row-group order (so groups come out in the order a single thread
    /// would give them). With `cache`, row groups' states are taken from it where kept, and kept
    /// there for the next run where not.
    func runPartials(_ scan: StoreScan, _ sink: AggregateSink, _ cache: PartialAggregateCache?) throws {
        let plan = sink.plan
        let query = Self.partialKey(cacheKey, plan)
        let run = cache?.begin(query)
        let rollups = AggregateState.persistable(plan) ? partialRollups : nil
        defer { if let run { cache?.end(query, run: run) } }
        var reused: [(key: String, state: AggregateState)] = []
        // The kept row groups, mostly the same from one run to the next, are kept merged as one
        // combined state (rebuilt when one of its row groups is no longer needed, from segments'
        // merged states); a copy of it starts this run's state, before any row arrives.
        var started = cache == nil
        func start() throws {
            guard !started, let cache, let run else { return }
            started = true
            let keys = Set(reused.map(\.key))
            var base = cache.combined(query)
            let bySegment = Self.bySegment(reused)
            if base == nil || !base!.keys.isSubset(of: keys) {
                base = (keys, try Self.combine(bySegment, plan: plan, query: query, cache: cache, run: run))
                cache.setCombined(query, keys, base!.state)
            } else {
                // Keep the segments' states that still hold for the next rebuild.
                for (segment, _) in bySegment { _ = cache.segmentState(query, segment, run: run) }
            }
            sink.state = base!.state.copy()
            for r in reused where !base!.keys.contains(r.key) { try sink.state.merge(r.state) }
        }
        // Bodies are fetched on this thread only.
        let threads = scan.needsBodies ? 1 : threads
        nonisolated(unsafe) let prepare = sink.prepare
        // Without a cache to keep row groups' states, a plan that takes batches by dictionary
        // entry sends only its per-entry sums here (no state of its own to build and merge).
        let byEntry = cache == nil && sink.state.takesEntries
        try scan.scan(threads: threads, reuse: cache.map { cache in { item in
            guard let key = scan.reuseKey(item), let run else { return false }
            if let kept = cache.state(query, key, run: run) {
                reused.append((key, kept))
            } else if let stored = rollups?.state(query, key, plan: plan) {
                reused.append((key, stored))
                cache.keep(query, key, stored, run: run)
            } else {
                return false
            }
            return true
        } }, reduce: { _, batch in
            guard var b = batch else { return Partial(state: nil) }
            prepare(&b)
            if byEntry {
                let (keys, args) = try AggregateState.evaluate(plan, b)
                if let e = AggregateState.entries(plan, keys, args, rows: b.count) { return Partial(state: nil, entries: e) }
            }
            return Partial(state: try AggregateState.own(plan, b))
        }, rowGroup: { item, partial in
            try start()
            if let cache, let run, let key = scan.reuseKey(item) {
                cache.keep(query, key, partial.state ?? AggregateState(plan: plan), run: run)
            }
            if let own = partial.state { try sink.state.merge(own) }
            if let e = partial.entries { sink.state.fold(e) }
            return true
        }, unpublished: { try start(); return try sink.consume($0) })
        try start()
    }

    /// Every result row in one go (for the HTTP endpoint and tests).
    public func collect() throws -> [Batch] {
        var out: [Batch] = []
        try run { out.append($0) }
        return out
    }
}
