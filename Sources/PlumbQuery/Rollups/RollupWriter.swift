import Foundation
import PlumbStore

/// Keeps `rollups/` in step with the live segments: writes the minute rollup (`MinuteRollups`)
/// and the partial rollup (`PartialRollups`, for `queries`) of each segment that lacks one,
/// and removes those of segments no longer live (compacted, expired). `plumb serve` runs a round
/// every few seconds on a background thread; `plumb import` one when it is done. A round costs
/// what reading the new segments for the detector and for each query costs, once.
///
/// ```swift
/// let round = try RollupWriter(directory: dir, queries: panelQueries).update()   // (written: 6, removed: 4)
/// ```
public final class RollupWriter: @unchecked Sendable {
    public let directory: DataDirectory
    /// The queries whose row groups' states the partial rollups hold (the dashboards' panels
    /// over their default ranges, as `plumb dash` runs them); none: no partial rollups.
    public let queries: [String]
    /// Files this writer wrote or found whole and current; any other file is checked once (a
    /// crash may have left it empty: it is written without fsync).
    private var known: Set<String> = []
    private let lock = NSLock()
    private let stopped = NSCondition()
    private var stopping = false

    public init(directory: DataDirectory, queries: [String] = []) {
        self.directory = directory; self.queries = queries
    }

    /// How far back from the newest span the spans of long requests may still land (a span is
    /// stamped with its start and written at its end); later ones make a reader read the row
    /// group again.
    static let lateSpans: Int64 = 10 * 60_000_000

    /// Runs a round every `every` seconds on a background thread of low priority until `stop`;
    /// a round's failure (say, a full disk) is reported once and the rounds go on.
    public func start(every: Double = 2, log: @escaping @Sendable (String) -> Void) {
        Thread.detachNewThread { [self] in
            Thread.current.name = "plumb-rollups"
            ThreadPriority.lower(by: 10)
            var lastError = ""
            while true {
                do { try update(limit: 64); lastError = "" } catch {
                    if "\(error)" != lastError { log("rollups: \(error)") }
                    lastError = "\(error)"
                }
                stopped.lock()
                if !stopping { _ = stopped.wait(until: Date().addingTimeInterval(every)) }
                let done = stopping
                stopped.unlock()
                if done { return }
            }
        }
    }

    public func stop() {
        stopped.lock(); stopping = true; stopped.broadcast(); stopped.unlock()
    }

    /// One round: at most `limit` files written (oldest segments first), stale ones removed.
    @discardableResult
    public func update(limit: Int = .max) throws -> (written: Int, removed: Int) {
        lock.lock(); defer { lock.unlock() }
        let view = try StoreReader(directory: directory).segmentsView()
        let dir = directory.rollups
        try FileSystem.makeDirectory(dir)
        let names = FileSystem.list(dir)
        let suffixes = queries.isEmpty ? [MinuteRollups.suffix] : [MinuteRollups.suffix, PartialRollups.suffix]
        let wanted = Set(view.live.flatMap { r in suffixes.map { r.sha256 + $0 } })
        var removed = 0
        // Rollups of segments gone, and files a crash left half-written.
        for name in names where !wanted.contains(name) {
            try? FileSystem.remove(dir + "/" + name)
            removed += 1
        }
        known.formIntersection(wanted)
        let present = Set(names)
        var written = 0
        for record in view.live.sorted(by: { $0.tsMin < $1.tsMin }) {
            for suffix in suffixes where !known.contains(record.sha256 + suffix) {
                let name = record.sha256 + suffix, path = dir + "/" + name
                if present.contains(name) && current(path, suffix: suffix, hash: record.sha256) {
                    known.insert(name)
                    continue
                }
                guard written < limit else { return (written, removed) }
                // Each segment is read once here: its pages would only push out those queries read again.
                guard let bytes = try PageCache.bypassing({
                    try suffix == MinuteRollups.suffix ? minutes(record, view: view) : partials(record, view: view)
                }) else { continue }
                // No fsync: a rollup lost or torn by a crash fails its checksums and is written again.
                let tmp = path + ".tmp"
                try FileDescriptor(path: tmp, flags: O_WRONLY | O_CREAT | O_TRUNC).write(bytes)
                try FileSystem.rename(tmp, path)
                known.insert(name)
                written += 1
            }
        }
        return (written, removed)
    }

    /// Whether a file this writer did not write can stay: it reads whole (minutes) or was
    /// written for the same queries (partials, whose entries are checked as they are read).
    func current(_ path: String, suffix: String, hash: String) -> Bool {
        suffix == MinuteRollups.suffix
            ? (try? MinuteRollups.decodeAll(path, hash: hash)) != nil
            : PartialRollups.queries(path, hash: hash) == queries
    }

    /// The segment's row groups read as the detector reads them, as parts. Row groups that
    /// retention cuts into have no key and are left out (a reader reads them).
    func minutes(_ record: SegmentRecord, view: StoreView) throws -> [UInt8] {
        var engine = QueryEngine(directory: directory)
        engine.view = view
        engine.minuteRollups = nil
        engine.threads = 1
        let prefix = record.sha256 + "#"
        var parts: [Int: MinutePart] = [:]
        try IncidentDetector.parts(engine, from: record.tsMin, until: record.tsMax + 1, whole: true,
                                   reuse: { !$0.hasPrefix(prefix) }, consume: { key, part in
            if let key, key.hasPrefix(prefix), let group = Int(key.dropFirst(prefix.count)) { parts[group] = part }
        })
        // Latencies stay beside the p95 in minutes another segment holds spans of, and in the
        // last minutes of the store, where spans of long requests still land.
        let minute = MinuteTable.minute
        let others = view.live.filter { $0.sha256 != record.sha256 && $0.tsMax >= record.tsMin && $0.tsMin <= record.tsMax }
        let settled = (view.live.map(\.tsMax).max() ?? .max) - Self.lateSpans
        return MinuteRollups.encode(hash: record.sha256, parts: parts, keepLatencies: { m in
            let from = m * minute, to = from + minute - 1
            return to >= settled || others.contains { $0.tsMin <= to && $0.tsMax >= from }
        })
    }

    /// Each query's state of each row group of the segment, as a live dashboard would keep it.
    /// A query is bound as of the row group's last span: a range ending now then holds the
    /// whole row group (when the range is longer than the row group's time span), which is
    /// how a dashboard sees every row group but those at its range's start.
    func partials(_ record: SegmentRecord, view: StoreView) throws -> [UInt8]? {
        var entries = [(key: PartialRollups.queriesEntry, bytes: Array(queries.joined(separator: "\u{0}").utf8))]
        guard var snapshot = try view.snapshot(from: record.tsMin, to: record.tsMax),
              let reader = snapshot.segments.first(where: { $0.0.sha256 == record.sha256 })?.1,
              let ts = reader.footer.columnIndex("ts_start") else { return nil }     // compacted away meanwhile
        // This segment alone: every query and row group below plans its scan over it.
        snapshot.segments = snapshot.segments.filter { $0.record.sha256 == record.sha256 }
        for (g, group) in reader.footer.rowGroups.enumerated() {
            guard case .int(_, let last) = group.pages[ts].zone.bounds else { continue }
            let engine = QueryEngine(directory: directory, now: last + 1), later = QueryEngine(directory: directory, now: last + 2)
            for sql in queries {
                guard let bound = try? engine.bind(sql), let plan = bound.aggregate, AggregateState.persistable(plan) else { continue }
                let exec = QueryExecutor(query: bound, snapshot: snapshot, directory: directory)
                // A key that moves with now() (a range shorter than the row group) is never asked for.
                guard let again = try? later.bind(sql), QueryExecutor.partialKey(sql, plan) == again.aggregate.map({ QueryExecutor.partialKey(sql, $0) }),
                      let key = exec.rowGroupKey(segment: record.sha256, group: g),
                      key == QueryExecutor(query: again, snapshot: snapshot, directory: directory).rowGroupKey(segment: record.sha256, group: g),
                      let (_, state) = try exec.rowGroupState(segment: record.sha256, group: g), let bytes = state.encoded() else { continue }
                entries.append(PartialRollups.entry(QueryExecutor.partialKey(sql, plan), key, bytes))
            }
        }
        return RollupFile.encode(kind: PartialRollups.kind, hash: record.sha256, entries: entries)
    }
}
