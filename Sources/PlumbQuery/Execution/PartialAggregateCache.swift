import Foundation

/// Partial aggregates of row groups, kept between runs of the same query so that a dashboard
/// refreshing every few seconds reads only what changed: the row groups at the moving edge of
/// its time range and the spans not yet in a segment. A row group's state is reused when the
/// query text, the segment (by content hash), the row group and the filter terms its zone maps
/// do not prove true are all the same; a sliding `ts_start >= now() - INTERVAL ...` is proven
/// true for every row group inside the range, so it does not stand in the way.
///
/// ```swift
/// var engine = QueryEngine(directory: dir)
/// engine.cache = PartialAggregateCache()
/// _ = try engine.collect(sql)      // reads every row group in range, keeps their states
/// _ = try engine.collect(sql)      // merges the kept states; reads only the rest
/// ```
public final class PartialAggregateCache: @unchecked Sendable {
    private let lock = NSLock()
    /// By query, then by row group key; with the run that last used it.
    private var entries: [String: [String: (state: AggregateState, run: Int)]] = [:]
    private var runs: [String: Int] = [:]
    /// Per query, the kept states of a set of row groups merged into one.
    private var combinedStates: [String: (keys: Set<String>, state: AggregateState)] = [:]
    /// Per query and segment, the kept states of some of its row groups merged into one; with
    /// the run that last used it.
    private var segmentStates: [String: [String: (keys: Set<String>, state: AggregateState, run: Int)]] = [:]
    /// Runs of any query so far, and when each query last ran: a query not run again within
    /// `forgetAfter` runs of others (its text changed, the dashboard closed) is dropped.
    private var clock = 0
    private var lastRun: [String: Int] = [:]
    let forgetAfter = 500
    public private(set) var hits = 0
    public private(set) var misses = 0
    /// Times a combined state was built (its row groups changed).
    public private(set) var rebuilds = 0

    public init() {}

    /// Starts a run of `query`; returns its number.
    func begin(_ query: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        clock += 1
        lastRun[query] = clock
        if clock % 64 == 0 {
            for (q, t) in lastRun where clock - t > forgetAfter {
                lastRun[q] = nil; runs[q] = nil; entries[q] = nil; combinedStates[q] = nil; segmentStates[q] = nil
            }
        }
        runs[query, default: 0] += 1
        return runs[query]!
    }

    func state(_ query: String, _ key: String, run: Int) -> AggregateState? {
        lock.lock(); defer { lock.unlock() }
        guard let e = entries[query]?[key] else { misses += 1; return nil }
        entries[query]![key] = (e.state, run)
        hits += 1
        return e.state
    }

    func keep(_ query: String, _ key: String, _ state: AggregateState, run: Int) {
        lock.lock(); defer { lock.unlock() }
        entries[query, default: [:]][key] = (state, run)
    }

    /// Ends a run: states the run did not use (row groups now outside the range, segments
    /// compacted away) are dropped, so the cache holds what the current frame needs.
    func end(_ query: String, run: Int) {
        lock.lock(); defer { lock.unlock() }
        entries[query] = entries[query]?.filter { $0.value.run == run }
        if entries[query]?.isEmpty == true { entries[query] = nil }
        segmentStates[query] = segmentStates[query]?.filter { $0.value.run == run }
    }

    func combined(_ query: String) -> (keys: Set<String>, state: AggregateState)? {
        lock.lock(); defer { lock.unlock() }
        return combinedStates[query]
    }

    func setCombined(_ query: String, _ keys: Set<String>, _ state: AggregateState) {
        lock.lock(); defer { lock.unlock() }
        combinedStates[query] = (keys, state)
        rebuilds += 1
    }

    /// A segment's merged state, marked as used by `run`.
    func segmentState(_ query: String, _ segment: String, run: Int) -> (keys: Set<String>, state: AggregateState)? {
        lock.lock(); defer { lock.unlock() }
        guard let e = segmentStates[query]?[segment] else { return nil }
        segmentStates[query]![segment] = (e.keys, e.state, run)
        return (e.keys, e.state)
    }

    func setSegmentState(_ query: String, _ segment: String, _ keys: Set<String>, _ state: AggregateState, run: Int) {
        lock.lock(); defer { lock.unlock() }
        segmentStates[query, default: [:]][segment] = (keys, state, run)
    }

    /// Row group states held.
    public var count: Int {
        lock.lock(); defer { lock.unlock() }
        return entries.values.reduce(0) { $0 + $1.count }
    }
}
