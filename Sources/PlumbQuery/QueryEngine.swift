import Foundation
import PlumbCore
import PlumbStore

/// The query engine's front door: parse, bind, snapshot the store, run or explain.
///
/// ```swift
/// let engine = QueryEngine(directory: DataDirectory("./plumb-data"))
/// let result = try engine.collect("SELECT model, count(*) FROM spans GROUP BY 1")
/// ```
public struct QueryEngine: Sendable {
    public let directory: DataDirectory
    /// What now() and current_timestamp return (fixed for the whole query).
    public var now: Int64
    /// Threads reading row groups (1: all on the caller's thread).
    public var threads = QueryEngine.defaultThreads
    /// Keeps row groups' partial aggregates between runs of a query (a live dashboard); nil
    /// for one-off queries.
    public var cache: PartialAggregateCache?
    /// Keeps decoded columns between queries (a digest, a dashboard); nil for one-off queries.
    public var columnCache: ColumnCache?
    /// Keeps row groups' minute counts between incident judgements (a live dashboard).
    public var minuteParts: MinutePartCache?
    /// The minute rollups `plumb serve` writes beside the segments, read by the incident
    /// detector in place of row groups (nil: always read the row groups).
    public var minuteRollups: MinuteRollups?
    /// The partial rollups `plumb serve` writes beside the segments: with a `cache`, a row
    /// group's aggregate state is taken from them when the cache has none (nil: never).
    public var partialRollups: PartialRollups?
    /// One view of the store that every query takes its snapshot from (a dashboard frame's
    /// panels: the catalog read and the WAL tailed once a frame); nil: each query reads the
    /// store afresh.
    public var view: StoreView?
    /// Past it a query stops with `QueryDeadline.Exceeded` (nil: no limit; the HTTP endpoint sets one).
    public var deadline: QueryDeadline?
    /// When set, queries run over the fleet store in ClickHouse instead of the data directory
    /// (`--source clickhouse`); the caches and rollups above are not used.
    public var clickhouse: ClickHouseSource?

    /// One per core, up to 8.
    public static let defaultThreads = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))

    public init(directory: DataDirectory, now: Int64 = Timestamp.nowMicros()) {
        self.directory = directory; self.now = now
        minuteRollups = MinuteRollups(directory: directory)
        partialRollups = PartialRollups(directory: directory)
    }

    /// The columns of a result and how the run went.
    public struct Header: Sendable {
        public var names: [String]
        public var types: [SQLType]
        /// EXPLAIN's plan lines (the table format prints them as they are).
        public var isPlan = false

        public init(names: [String], types: [SQLType], isPlan: Bool = false) {
            self.names = names; self.types = types; self.isPlan = isPlan
        }
    }

    public func bind(_ sql: String) throws -> BoundQuery {
        try Binder(now: now).bind(try Parser.parse(sql))
    }

    /// Runs `sql`, handing result batches to `emit` as they are ready (a plain scan streams);
    /// `begin` gets the header first. EXPLAIN emits one VARCHAR column of plan lines.
    public func run(_ sql: String, begin: (Header) throws -> Void, emit: @escaping (Batch) throws -> Void) throws -> ScanStats {
        let q = try bind(sql)
        if let clickhouse { return try clickhouse.run(q, begin: begin, emit: emit) }
        let snapshot: StoreSnapshot?
        var totalSegments = 0
        let preds = ZonePredicate.derive(from: q.filter, columns: q.scanColumns)
        if q.hasFrom {
            snapshot = try self.snapshot(for: preds)
            if q.explain { totalSegments = try view?.live.count ?? StoreReader(directory: directory).catalog.liveSegments().count }
        } else {
            snapshot = nil
        }
        if q.explain {
            let text = QueryPlan.explain(q, snapshot: snapshot, predicates: preds, totalSegments: totalSegments)
            let lines = text.split(separator: "\n").map { Value.string(String($0)) }
            try begin(Header(names: ["plan"], types: [.varchar], isPlan: true))
            try emit(Batch(columns: [Vector.from(lines, type: .varchar)], count: lines.count))
            return ScanStats()
        }
        try begin(Header(names: q.names, types: q.projections.map(\.type)))
        let exec = executor(q, snapshot)
        exec.cacheKey = sql
        try exec.run(emit)
        return exec.stats
    }

    /// Pins a new view of the store for the queries that follow (see `view`); nil when the
    /// store cannot be read, so that each query reports why.
    public mutating func takeView() {
        guard clickhouse == nil else { return }
        view = try? StoreReader(directory: directory).view()
    }

    /// The segments a query's time range overlaps, and the spans not yet in one.
    func snapshot(for predicates: [ZonePredicate]) throws -> StoreSnapshot {
        let range = ZonePredicate.timeRange(predicates)
        return try snapshot(from: range.from, to: range.to)
    }

    /// The segments overlapping `[from, to]` and the unpublished spans: from `view` while its
    /// segments are still there, else read afresh.
    func snapshot(from: Int64, to: Int64) throws -> StoreSnapshot {
        if let view, let snap = try view.snapshot(from: from, to: to) { return snap }
        return try StoreReader(directory: directory).snapshot(from: from, to: to)
    }

    /// An executor with this engine's threads and caches.
    func executor(_ q: BoundQuery, _ snapshot: StoreSnapshot?) -> QueryExecutor {
        let exec = QueryExecutor(query: q, snapshot: snapshot, directory: directory)
        exec.threads = threads
        exec.cache = cache
        exec.partialRollups = partialRollups
        exec.columnCache = columnCache
        exec.deadline = deadline
        return exec
    }

    /// A plain SELECT reduced by the caller: see `QueryExecutor.map`. Each batch is turned into
    /// a `T` by `transform` on the scan threads; `consume` gets them in order on this thread.
    ///
    /// ```swift
    /// try engine.map("SELECT latency_ms FROM spans", { _, batch in batch.count }) { _, n in total += n }
    /// ```
    public func map<T: Sendable>(_ sql: String, wholeRowGroups: Bool = false, reuse: ((String) -> Bool)? = nil,
                                 _ transform: @escaping @Sendable (String?, Batch) throws -> T,
                                 consume: (String?, T) throws -> Void) throws {
        let q = try bind(sql)
        if let clickhouse {
            for batch in try clickhouse.run(q) { try consume(nil, try transform(nil, batch)) }
            return
        }
        let snapshot = try self.snapshot(for: ZonePredicate.derive(from: q.filter, columns: q.scanColumns))
        try executor(q, snapshot).map(wholeRowGroups: wholeRowGroups, reuse: reuse, transform, consume)
    }

    /// The whole result in memory.
    public func collect(_ sql: String) throws -> QueryResult {
        var header = Header(names: [], types: [])
        var batches: [Batch] = []
        let stats = try run(sql, begin: { header = $0 }, emit: { batches.append($0) })
        return QueryResult(names: header.names, types: header.types, batches: batches, stats: stats)
    }
}

/// A complete result: column names and types, and the rows as batches.
public struct QueryResult: Sendable {
    public var names: [String]
    public var types: [SQLType]
    public var batches: [Batch]
    public var stats: ScanStats

    public init(names: [String], types: [SQLType], batches: [Batch], stats: ScanStats = ScanStats()) {
        self.names = names; self.types = types; self.batches = batches; self.stats = stats
    }

    public var rowCount: Int { batches.reduce(0) { $0 + $1.count } }

    /// Row-major values (for tests and small results).
    public var rows: [[Value]] {
        batches.flatMap { b in (0..<b.count).map { r in b.columns.map { $0.value(at: r) } } }
    }
}
