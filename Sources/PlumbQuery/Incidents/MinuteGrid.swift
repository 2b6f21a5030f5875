/// Per-minute figures of every (provider, model) over one window, kept dense: one cell per
/// scope and minute, cell = scope × minutes + minute. The detector fills it from one scan of
/// the spans instead of a GROUP BY with a quantile per group, whose ~10^5 small groups (a week
/// of minutes for every model) cost far more in hashing and allocation than the counting does.
///
/// ```swift
/// var grid = MinuteGrid(from: since, until: now)
/// grid.add(MinuteGrid.Rows(cells: [grid.cell(scope: 0, ts: t)!], failed: [false], cost: [0], latency: [812], latencyValid: nil))
/// let (models, providers) = grid.finish(scopes: [("openai", "gpt-4o")])
/// ```
struct MinuteGrid {
    static let minute: Int64 = 60_000_000

    /// The minute number (microseconds / 60 s) of column 0, and how many columns.
    let firstMinute: Int64
    let minutes: Int
    private var requests: [Int32] = []
    private var failed: [Int32] = []
    private var failedCost: [Double] = []
    /// Every latency with its cell, gathered per cell by `finish`.
    private var latencyCell: [Int32] = []
    private var latency: [Double] = []

    init(from: Int64, until: Int64) {
        firstMinute = Self.floorMinute(from)
        minutes = max(1, Int(Self.floorMinute(until - 1) - firstMinute + 1))
    }

    static func floorMinute(_ ts: Int64) -> Int64 {
        ts >= 0 ? ts / minute : -((-ts + minute - 1) / minute)
    }

    /// The cell of `ts` in `scope`; -1 outside the window.
    @inline(__always) func cell(scope: Int32, ts: Int64) -> Int32 {
        let m = Self.floorMinute(ts) - firstMinute
        return m >= 0 && m < Int64(minutes) ? scope * Int32(minutes) + Int32(m) : -1
    }

    /// A batch of spans reduced to what the grid counts (on a scan thread).
    struct Rows: Sendable {
        var cells: [Int32]
        var failed: [Bool]
        /// Counted for failed rows only.
        var cost: [Double]
        var latency: [Double]
        /// nil: every row has a latency.
        var latencyValid: [Bool]?
    }

    mutating func add(_ rows: Rows) {
        if let top = rows.cells.max(), Int(top) >= requests.count {
            let size = (Int(top) / minutes + 1) * minutes
            requests += repeatElement(0, count: size - requests.count)
            failed += repeatElement(0, count: size - failed.count)
            failedCost += repeatElement(0, count: size - failedCost.count)
        }
        // Moved out of self for the loop, so that the writes need no uniqueness checks.
        var requests = self.requests, failed = self.failed, failedCost = self.failedCost
        var cells = self.latencyCell, latency = self.latency
        self.requests = []; self.failed = []; self.failedCost = []; self.latencyCell = []; self.latency = []
        requests.withUnsafeMutableBufferPointer { requests in
            failed.withUnsafeMutableBufferPointer { failed in
                failedCost.withUnsafeMutableBufferPointer { failedCost in
                    for r in rows.cells.indices where rows.cells[r] >= 0 {
                        let cell = Int(rows.cells[r])
                        requests[cell] += 1
                        if rows.failed[r] { failed[cell] += 1; failedCost[cell] += rows.cost[r] }
                        if rows.latencyValid?[r] ?? true { cells.append(rows.cells[r]); latency.append(rows.latency[r]) }
                    }
                }
            }
        }
        self.requests = requests; self.failed = failed; self.failedCost = failedCost
        self.latencyCell = cells; self.latency = latency
    }

    /// The figures of each (provider, model) scope (`scopes`, by number) and of each provider
    /// (its models' minutes together), with each minute's p95 latency.
    func finish(scopes: [(provider: String, model: String)]) -> (models: MinuteTable, providers: MinuteTable) {
        let cells = scopes.count * minutes
        func padded<T: Numeric>(_ a: [T]) -> [T] { a.count >= cells ? a : a + repeatElement(0, count: cells - a.count) }
        let requests = padded(self.requests), failed = padded(self.failed), failedCost = padded(self.failedCost)
        // Latencies bucketed by cell (a counting sort): cell c's are sorted[start[c]..<start[c + 1]].
        var start = [Int32](repeating: 0, count: cells + 1)
        for c in latencyCell { start[Int(c) + 1] += 1 }
        for c in 0..<cells { start[c + 1] += start[c] }
        var sorted = [Double](repeating: 0, count: latency.count)
        var next = start
        for (c, v) in zip(latencyCell, latency) {
            sorted[Int(next[Int(c)])] = v
            next[Int(c)] += 1
        }
        var models = MinuteTable(names: scopes, firstMinute: firstMinute, minutes: minutes, requests: requests, failed: failed,
                                 failedCost: failedCost)
        var providerNames: [(provider: String, model: String)] = []
        var providerOf: [Int] = []
        for s in scopes {
            if let p = providerNames.firstIndex(where: { $0.provider == s.provider }) { providerOf.append(p) } else {
                providerOf.append(providerNames.count); providerNames.append((s.provider, ""))
            }
        }
        var providers = MinuteTable(names: providerNames, firstMinute: firstMinute, minutes: minutes,
                                    requests: [Int32](repeating: 0, count: providerNames.count * minutes),
                                    failed: [Int32](repeating: 0, count: providerNames.count * minutes),
                                    failedCost: [Double](repeating: 0, count: providerNames.count * minutes))
        for (s, p) in providerOf.enumerated() {
            for m in 0..<minutes {
                providers.requests[p * minutes + m] += requests[s * minutes + m]
                providers.failed[p * minutes + m] += failed[s * minutes + m]
                providers.failedCost[p * minutes + m] += failedCost[s * minutes + m]
            }
        }
        // A provider's minute: its models' latencies of that minute, side by side in `scratch`.
        var scratch: [Double] = []
        sorted.withUnsafeMutableBufferPointer { all in
            for c in 0..<cells where start[c + 1] > start[c] {
                models.setP95(c, MinuteTable.p95(UnsafeMutableBufferPointer(rebasing: all[Int(start[c])..<Int(start[c + 1])])))
            }
            for p in providerNames.indices {
                let own = providerOf.indices.filter { providerOf[$0] == p }
                for m in 0..<minutes {
                    scratch.removeAll(keepingCapacity: true)
                    for s in own {
                        let c = s * minutes + m
                        scratch.append(contentsOf: UnsafeMutableBufferPointer(rebasing: all[Int(start[c])..<Int(start[c + 1])]))
                    }
                    if !scratch.isEmpty {
                        providers.setP95(p * minutes + m, scratch.withUnsafeMutableBufferPointer { MinuteTable.p95($0) })
                    }
                }
            }
        }
        return (models, providers)
    }
}
