import Foundation
import PlumbCore

/// Finds incidents in the store: minute buckets per provider and per (provider, model) from one
/// scan, each minute judged by `IncidentSettings`, adjacent bad minutes merged. Model-level
/// incidents inside a provider-level one are left out (the provider explains them).
///
/// ```swift
/// let incidents = try IncidentDetector(engine: engine).detect(since: now - 86_400_000_000, until: now)
/// ```
public struct IncidentDetector: Sendable {
    public let engine: QueryEngine
    public var settings: IncidentSettings

    public init(engine: QueryEngine, settings: IncidentSettings = IncidentSettings()) {
        self.engine = engine; self.settings = settings
    }

    /// A failed request: the provider's fault or its limits (5xx, 429, timeouts, resets); a
    /// client that went away is not one.
    public static let failed = "(status >= 500 OR status = 429 OR error_type IN (\(failedErrorTypes.map { "'\($0)'" }.joined(separator: ", "))))"
    /// The error types that are failures whatever the status (`MinutePart.Rows` tests them
    /// natively, as `failed` does in SQL).
    static let failedErrorTypes = ["upstream_timeout", "upstream_unreachable", "stream_reset"]
    static func failedStatus(_ s: Int64) -> Bool { s >= 500 || s == 429 }

    static let minute = MinuteTable.minute

    /// One scope's minute.
    struct Bucket {
        var minute: Int64
        var requests: Int64
        var failed: Int64
        var p95: Double?
        var failedCost: Double
    }

    public func detect(since: Int64, until: Int64) throws -> [Incident] {
        // Each level judged on the lane that assembled it.
        let (modelLevel, providerLevel) = try tables(since: since, until: until) { [self] table, byModel in
            judgeAll(table, byModel: byModel, since: since, until: until)
        }
        let modelOnly = modelLevel.filter { m in
            !providerLevel.contains { $0.provider == m.provider && $0.start < m.end && m.start < $0.end }
        }
        return (providerLevel + modelOnly).sorted { ($0.start, $0.provider, $0.model ?? "") < ($1.start, $1.provider, $1.model ?? "") }
    }

    /// The minutes of every (provider, model) and of every provider over the window and its
    /// trailing baseline (whole minutes), from one scan: each row group is reduced to a
    /// `MinutePart` on the scan threads, and the parts are added up here. With
    /// `engine.minuteParts`, row groups' parts are kept, and a row group read before is not
    /// read again; with `engine.minuteRollups`, a row group whose segment has a rollup is not
    /// read at all.
    func tables(since: Int64, until: Int64) throws -> (models: MinuteTable, providers: MinuteTable) {
        try tables(since: since, until: until) { table, _ in table }
    }

    /// `tables`, each level handed to `then` (with whether it is the model level) on the lane
    /// that assembled it.
    func tables<T: Sendable>(since: Int64, until: Int64,
                             then: @escaping @Sendable (MinuteTable, Bool) -> T) throws -> (models: T, providers: T) {
        let first = MinuteTable.floorMinute(since - Int64(settings.baselineMinutes) * Self.minute)
        let from = first * Self.minute
        let minutes = max(1, Int(MinuteTable.floorMinute(until - 1) - first + 1))
        let cache = engine.minuteParts, rollups = engine.minuteRollups
        let run = cache?.begin()
        defer { if let run { cache?.end(run: run) } }
        // Whole row groups (their parts depend on the segment alone, so they can be kept or read
        // from a rollup): for a live dashboard's judgements, and wherever the window's end leaves
        // no rows of its last minute out (a whole minute, or now: no span starts later).
        let whole = cache != nil || (rollups != nil && (until % Self.minute == 0 || until >= Timestamp.nowMicros()))
        var parts: [MinutePart] = [], keys: [String?] = []
        try Self.parts(engine, from: from, until: until, whole: whole, reuse: { key in
            guard let part = run.flatMap({ cache?.part(key, run: $0) }) ?? rollups?.part(key) else { return false }
            parts.append(part); keys.append(key)
            if let run { cache?.keep(key, part, run: run) }
            return true
        }, consume: { key, part in
            parts.append(part); keys.append(key)
            if let key, let run { cache?.keep(key, part, run: run) }
        })
        // The two levels on both cores, each assembled (mostly p95s of edge minutes) and handed
        // on; a level missing latencies a rollup left out has its row groups read, then again.
        for attempt in 0..<2 {
            let all = parts, jobs = ParallelJobs()
            func level(byModel: Bool) -> ParallelJobs.Result<(Set<Int>, T?)> {
                jobs.add {
                    let table = MinuteTable.assemble(all, level: byModel ? \.models : \.providers, firstMinute: first, minutes: minutes)
                    return (table.unresolved, table.unresolved.isEmpty || attempt > 0 ? then(table, byModel) : nil)
                }
            }
            let models = level(byModel: true), providers = level(byModel: false)
            try jobs.run(lanes: min(2, engine.threads))
            let unresolved = models.value.0.union(providers.value.0)
            if let m = models.value.1, let p = providers.value.1 { return (m, p) }
            // Read those row groups afresh (full latencies) in place of their rollup parts.
            let wanted = Set(unresolved.compactMap { keys[$0] })
            rollups?.noteRereads(wanted.count)
            var fresh: [String: MinutePart] = [:]
            try Self.parts(engine, from: from, until: until, whole: true, reuse: { !wanted.contains($0) },
                           consume: { key, part in if let key { fresh[key] = part } })
            for (i, key) in keys.enumerated() { if let key, let part = fresh[key] { parts[i] = part } }
            for (key, part) in fresh { if let run { cache?.keep(key, part, run: run) } }
        }
        preconditionFailure("a second assembly judges whatever it has")
    }

    /// The detector's columns over `[from, until)`, each row group (and the spans not yet in a
    /// segment) reduced to a `MinutePart` on the scan threads and handed to `consume` in order,
    /// with its key (nil: not a whole row group). `whole`: row groups are not cut to the window.
    static func parts(_ engine: QueryEngine, from: Int64, until: Int64, whole: Bool, reuse: ((String) -> Bool)?,
                      consume: (String?, MinutePart) throws -> Void) throws {
        let sql = """
            SELECT provider, coalesce(model, '(none)'), ts_start, latency_ms, status, error_type, cost_usd
            FROM spans WHERE ts_start >= '\(Timestamp.format(from))' AND ts_start < '\(Timestamp.format(until))'
            """
        // Row groups' parts are what is kept: their decoded columns would only push out the
        // columns other panels read again, and fresh memory for each costs page faults.
        var scan = engine
        scan.columnCache = nil
        try scan.map(sql, wholeRowGroups: whole, reuse: reuse, { _, batch in MinutePart(MinutePart.Rows(batch)) }, consume: consume)
    }

    /// Every scope of `grid` judged, in the order of their names.
    func judgeAll(_ grid: MinuteTable, byModel: Bool, since: Int64, until: Int64) -> [Incident] {
        var incidents: [Incident] = []
        for s in grid.names.indices.sorted(by: { grid.names[$0].provider + "\u{0}" + grid.names[$0].model < grid.names[$1].provider + "\u{0}" + grid.names[$1].model }) {
            incidents += judge(grid.buckets(scope: s), provider: grid.names[s].provider,
                               model: byModel ? grid.names[s].model : nil, since: since, until: until)
        }
        return incidents
    }

    /// Whether a minute's latency is far above its baseline (needs enough requests for a p95).
    func slow(_ b: Bucket, baseline: Double?) -> Bool {
        guard b.requests >= Int64(settings.latencyMinRequests), let p95 = b.p95, let baseline else { return false }
        return p95 > settings.latencyMultiple * baseline
    }

    /// Judges one scope's minutes (in time order). A minute is failing when at least `errorRate`
    /// of its requests failed; failing minutes at most `mergeGapMinutes` apart form a run. A run
    /// is an incident when, taken as a whole, it has `minFailures` failures, a failed share of at
    /// least `errorRate`, and more failures than the scope's normal failure rate could produce by
    /// chance (binomial tail under `significance`): so a provider with a few requests a minute,
    /// all failing, is caught, and a quiet model's occasional 429 is not. Runs of slow minutes
    /// (p95 over `latencyMultiple` × the trailing median p95) make latency incidents.
    func judge(_ buckets: [Bucket], provider: String, model: String?, since: Int64, until: Int64) -> [Incident] {
        let s = settings
        // Good minutes in time order; those before `first` have left the trailing window, whose
        // p95s `window` keeps sorted (for its median).
        var good: [(minute: Int64, p95: Double)] = []
        var window: [Double] = []
        var first = 0
        var marks: [(bucket: Bucket, failing: Bool, slow: Bool)] = []
        marks.reserveCapacity(buckets.count)
        var normalRequests: Int64 = 0, normalFailed: Int64 = 0
        for b in buckets {
            let windowStart = b.minute - Int64(s.baselineMinutes) * Self.minute
            while first < good.count && good[first].minute < windowStart {
                window.remove(at: Self.insertionPoint(good[first].p95, in: window))
                first += 1
            }
            // The trailing median only where a minute could be slow (enough requests for a p95).
            let needsBaseline = b.requests >= Int64(s.latencyMinRequests) && b.p95 != nil && window.count >= 10
            let baseline = needsBaseline ? Self.median(ofSorted: window) : nil
            let failing = b.failed > 0 && Double(b.failed) / Double(b.requests) >= s.errorRate
            let isSlow = slow(b, baseline: baseline)
            if !failing {
                normalRequests += b.requests; normalFailed += b.failed
                if !isSlow, b.requests >= Int64(s.minRequests), let p = b.p95 {
                    good.append((b.minute, p))
                    window.insert(p, at: Self.insertionPoint(p, in: window))
                }
            }
            marks.append((b, failing, isSlow))
        }
        let normalRate = max(0.01, normalRequests > 0 ? Double(normalFailed) / Double(normalRequests) : 0)
        var out: [Incident] = []
        for latency in [false, true] {
            var k = 0
            while k < marks.count {
                guard latency ? marks[k].slow : marks[k].failing else { k += 1; continue }
                var last = k, hits = 1, fine = 0
                var j = k + 1
                while j < marks.count && fine <= s.mergeGapMinutes
                        && marks[j].bucket.minute - marks[last].bucket.minute <= Int64(s.maxQuietMinutes + 1) * Self.minute {
                    if latency ? marks[j].slow : marks[j].failing { last = j; hits += 1; fine = 0 } else { fine += 1 }
                    j += 1
                }
                let run = marks[k...last]
                k = last + 1
                let requests = run.reduce(Int64(0)) { $0 + $1.bucket.requests }
                let failed = run.reduce(Int64(0)) { $0 + $1.bucket.failed }
                let kind: IncidentKind
                if latency {
                    guard hits >= s.latencyMinMinutes else { continue }
                    kind = .latency
                } else {
                    guard failed >= Int64(s.minFailures), Double(failed) / Double(requests) >= s.errorRate,
                          Self.binomialTail(failed, requests, normalRate) < s.significance else { continue }
                    let noSuccess = run.contains { $0.bucket.requests >= Int64(s.outageMinRequests) && $0.bucket.failed == $0.bucket.requests }
                    kind = noSuccess || Double(failed) / Double(requests) >= 0.95 ? .outage : .errors
                }
                let start = run.first!.bucket.minute, end = run.last!.bucket.minute + Self.minute
                guard end > since, start >= since - Self.minute else { continue }
                // A latency run inside an error incident is part of it.
                if latency && out.contains(where: { $0.kind != .latency && $0.start < end && start < $0.end }) { continue }
                out.append(Incident(
                    provider: provider, model: model, kind: kind, start: start, end: end, ongoing: end >= until - Self.minute,
                    peakErrorRate: run.map { $0.bucket.requests > 0 ? Double($0.bucket.failed) / Double($0.bucket.requests) : 0 }.max() ?? 0,
                    requests: requests, affected: latency ? requests : failed,
                    failedCostUSD: run.reduce(0) { $0 + $1.bucket.failedCost }))
            }
        }
        return out.sorted { $0.start < $1.start }
    }

    /// P(X ≥ k) for X ~ Binomial(n, p): the first term in log space, the rest by the ratio of
    /// consecutive terms, stopping once they no longer matter.
    static func binomialTail(_ k: Int64, _ n: Int64, _ p: Double) -> Double {
        guard k > 0 else { return 1 }
        guard k <= n, p > 0 else { return 0 }
        if p >= 1 { return 1 }
        var logChoose = 0.0                                   // log C(n, k)
        for j in 1...k { logChoose += log(Double(n - k + j) / Double(j)) }
        var term = exp(logChoose + Double(k) * log(p) + Double(n - k) * log1p(-p))
        var total = term
        var i = k
        while i < n {
            term *= Double(n - i) / Double(i + 1) * p / (1 - p)
            total += term
            if term < total * 1e-12 { break }
            i += 1
        }
        return min(1, total)
    }

    /// The first index of `sorted` whose value is not below `x`.
    static func insertionPoint(_ x: Double, in sorted: [Double]) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    static func median(ofSorted s: [Double]) -> Double {
        s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
