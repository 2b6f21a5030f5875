/// The minutes of one row group (or of the spans not yet in a segment): per (provider, model)
/// and per provider, per minute, the requests, failures, the failures' cost, the latencies and
/// their p95. Built on a scan thread; a live dashboard keeps the parts of row groups between
/// judgements (`MinutePartCache`), so a judgement reads only new row groups and adds up parts.
///
/// ```swift
/// let part = MinutePart(MinutePart.Rows(batch))
/// let table = MinuteTable.assemble([part], level: \.models, firstMinute: m0, minutes: 1_500)
/// ```
struct MinutePart: Sendable {
    /// The minute number (microseconds / 60 s) of each column.
    var minutes: [Int64]
    var models: Level
    var providers: Level

    /// One level's cells: cell = scope × columns + column.
    struct Level: Sendable {
        var names: [(provider: String, model: String)]
        var requests: [Int32]
        var failed: [Int32]
        var failedCost: [Double]
        /// nil where no request had a latency.
        var p95: [Double?]
        /// The latencies of cell c: `latencies[start[c]..<start[c + 1]]`.
        var start: [Int32]
        var latencies: [Double]

        func latencies(_ cell: Int) -> ArraySlice<Double> { latencies[Int(start[cell])..<Int(start[cell + 1])] }
    }

    /// A batch of `SELECT provider, coalesce(model, '(none)'), ts_start, latency_ms, <failed>, cost_usd`.
    struct Rows {
        var provider: (codes: [UInt32], dictionary: [String])
        var model: (codes: [UInt32], dictionary: [String])
        var ts: [Int64]
        var latency: [Double]
        var latencyValid: [Bool]?
        var failed: [Bool]
        var cost: [Double]

        init(_ batch: Batch) {
            let c = batch.columns
            provider = Columns.coded(c[0]); model = Columns.coded(c[1])
            ts = Columns.ints(c[2]); latency = Columns.doubles(c[3]); latencyValid = c[3].validity
            let f = Columns.bools(c[4])
            failed = c[4].validity.map { v in zip(f, v).map { $0 && $1 } } ?? f
            cost = Columns.doubles(c[5], nullAs: 0)
        }
    }

    init(_ rows: Rows) {
        let n = rows.ts.count
        // Local scopes, one per pair of dictionary entries met.
        let width = rows.model.dictionary.count
        var pairScope = [Int32](repeating: -1, count: rows.provider.dictionary.count * width)
        var names: [(provider: String, model: String)] = []
        var scope = [Int32](repeating: 0, count: n)
        for r in 0..<n {
            let pair = Int(rows.provider.codes[r]) * width + Int(rows.model.codes[r])
            if pairScope[pair] < 0 {
                pairScope[pair] = Int32(names.count)
                names.append((rows.provider.dictionary[Int(rows.provider.codes[r])], rows.model.dictionary[Int(rows.model.codes[r])]))
            }
            scope[r] = pairScope[pair]
        }
        // Columns: every minute from the first to the last, unless that is far more cells than
        // rows (a quiet store's row group spans weeks): then only the minutes present.
        let minuteOf = rows.ts.map(MinuteTable.floorMinute)
        let lo = minuteOf.min() ?? 0, hi = minuteOf.max() ?? -1
        var column = [Int32](repeating: 0, count: n)
        if n == 0 || Int(hi - lo + 1) * names.count <= max(4 * n, 4096) {
            minutes = n == 0 ? [] : Array(lo...hi)
            for r in 0..<n { column[r] = Int32(minuteOf[r] - lo) }
        } else {
            minutes = Array(Set(minuteOf)).sorted()
            let index = Dictionary(uniqueKeysWithValues: minutes.enumerated().map { ($1, Int32($0)) })
            for r in 0..<n { column[r] = index[minuteOf[r]]! }
        }
        let columns = minutes.count
        let cells = scope.indices.map { Int32(Int(scope[$0]) * columns + Int(column[$0])) }
        models = Self.level(names: names, cellCount: names.count * columns, cells: cells, rows)
        // The provider level: each model cell's rows go to its provider's cell of the same minute.
        var providerNames: [(provider: String, model: String)] = []
        var providerOf: [Int32] = []
        for s in names {
            if let p = providerNames.firstIndex(where: { $0.provider == s.provider }) { providerOf.append(Int32(p)) } else {
                providerOf.append(Int32(providerNames.count)); providerNames.append((s.provider, ""))
            }
        }
        let providerCells = scope.indices.map { Int32(Int(providerOf[Int(scope[$0])]) * columns + Int(column[$0])) }
        providers = Self.level(names: providerNames, cellCount: providerNames.count * columns, cells: providerCells, rows)
    }

    /// Counts per cell, and the latencies grouped by cell (a counting sort) with each cell's p95.
    static func level(names: [(provider: String, model: String)], cellCount: Int, cells: [Int32], _ rows: Rows) -> Level {
        var requests = [Int32](repeating: 0, count: cellCount), failed = requests
        var failedCost = [Double](repeating: 0, count: cellCount)
        var start = [Int32](repeating: 0, count: cellCount + 1)
        let isFailed = rows.failed, cost = rows.cost, latency = rows.latency
        let valid = rows.latencyValid ?? [Bool](repeating: true, count: cells.count)
        for (r, c) in cells.enumerated() {
            requests[Int(c)] += 1
            if isFailed[r] { failed[Int(c)] += 1; failedCost[Int(c)] += cost[r] }
            if valid[r] { start[Int(c) + 1] += 1 }
        }
        for c in 0..<cellCount { start[c + 1] += start[c] }
        var latencies = [Double](repeating: 0, count: Int(start[cellCount]))
        var next = start
        for (r, c) in cells.enumerated() where valid[r] {
            latencies[Int(next[Int(c)])] = latency[r]
            next[Int(c)] += 1
        }
        var p95 = [Double?](repeating: nil, count: cellCount)
        latencies.withUnsafeMutableBufferPointer { all in
            for c in 0..<cellCount where start[c + 1] > start[c] {
                p95[c] = MinuteTable.p95(UnsafeMutableBufferPointer(rebasing: all[Int(start[c])..<Int(start[c + 1])]))
            }
        }
        return Level(names: names, requests: requests, failed: failed, failedCost: failedCost, p95: p95, start: start, latencies: latencies)
    }
}
