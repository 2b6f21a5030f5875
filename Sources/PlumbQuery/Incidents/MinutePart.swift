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
        /// nil where no request had a latency, and at the part's first and last minute.
        var p95: [Double?]
        /// The latencies of cell c: `latencies[start[c]..<start[c + 1]]`.
        var start: [Int32]
        var latencies: [Double]
        /// Read from a minute rollup: a cell with its p95 has no latencies here.
        var trimmed = false

        func latencies(_ cell: Int) -> ArraySlice<Double> { latencies[Int(start[cell])..<Int(start[cell + 1])] }
    }

    /// A batch of `SELECT provider, coalesce(model, '(none)'), ts_start, latency_ms, status,
    /// error_type, cost_usd`. `failed` is `IncidentDetector.failed` worked out here: a status
    /// test per row and an error-type test per dictionary entry, with no vectors of booleans
    /// built and combined for it.
    struct Rows {
        var provider: (codes: [UInt32], dictionary: [String])
        var model: (codes: [UInt32], dictionary: [String])
        var ts: [Int64]
        var latency: [Double]
        var latencyValid: [Bool]?
        var failed: [Bool]
        /// Read for failed rows only (most rows never need their cost as a double).
        var costs: Vector

        init(_ batch: Batch) {
            let c = batch.columns
            provider = Columns.coded(c[0]); model = Columns.coded(c[1])
            ts = Columns.ints(c[2]); latency = Columns.doubles(c[3]); latencyValid = c[3].validity
            failed = Self.failures(status: c[4], errorType: c[5])
            costs = c[6]
        }

        /// Whether each row failed (NULL status and error type: no).
        static func failures(status: Vector, errorType: Vector) -> [Bool] {
            let n = status.count
            var out = [Bool](repeating: false, count: n)
            if !status.isConstantNull {
                let s = Columns.ints(status)
                out.withUnsafeMutableBufferPointer { o in
                    s.withUnsafeBufferPointer { s in
                        for r in 0..<n { o[r] = IncidentDetector.failedStatus(s[r]) }
                    }
                    if let valid = status.validity { for r in 0..<n where !valid[r] { o[r] = false } }
                }
            }
            guard !errorType.isConstantNull else { return out }
            let (codes, dictionary) = Columns.coded(errorType)
            let failing = dictionary.map { IncidentDetector.failedErrorTypes.contains($0) }
            guard failing.contains(true) else { return out }
            let valid = errorType.validity
            for r in 0..<n where failing[Int(codes[r])] && (valid?[r] ?? true) { out[r] = true }
            return out
        }

        /// Row r's cost, 0 when NULL.
        func cost(_ r: Int) -> Double {
            guard costs.isValid(r) else { return 0 }
            switch costs.data {
            case .double(let v): return v[r]
            case .decimal(let d): return d.double(r)
            default: return costs.value(at: r).asDouble ?? 0
            }
        }
    }

    init(_ rows: Rows) {
        let n = rows.ts.count
        // Local scopes, one per pair of dictionary entries met.
        let width = rows.model.dictionary.count
        var pairScope = [Int32](repeating: -1, count: rows.provider.dictionary.count * width)
        var names: [(provider: String, model: String)] = []
        var cells = [Int32](repeating: 0, count: n)
        for r in 0..<n {
            let pair = Int(rows.provider.codes[r]) * width + Int(rows.model.codes[r])
            if pairScope[pair] < 0 {
                pairScope[pair] = Int32(names.count)
                names.append((rows.provider.dictionary[Int(rows.provider.codes[r])], rows.model.dictionary[Int(rows.model.codes[r])]))
            }
            cells[r] = pairScope[pair]
        }
        // Columns: every minute from the first to the last, unless that is far more cells than
        // rows (a quiet store's row group spans weeks): then only the minutes present.
        var first = rows.ts.first ?? 0, last = first
        for t in rows.ts { first = Swift.min(first, t); last = Swift.max(last, t) }
        let lo = MinuteTable.floorMinute(first), hi = MinuteTable.floorMinute(last)
        if n == 0 {
            minutes = []
        } else if Int(hi - lo + 1) * names.count <= Swift.max(4 * n, 4096) {
            minutes = Array(lo...hi)
            let columns = minutes.count
            for r in 0..<n { cells[r] = cells[r] * Int32(columns) + Int32(MinuteTable.floorMinute(rows.ts[r]) - lo) }
        } else {
            minutes = Array(Set(rows.ts.map(MinuteTable.floorMinute))).sorted()
            let index = Dictionary(uniqueKeysWithValues: minutes.enumerated().map { ($1, Int32($0)) })
            let columns = minutes.count
            for r in 0..<n { cells[r] = cells[r] * Int32(columns) + index[MinuteTable.floorMinute(rows.ts[r])]! }
        }
        let columns = minutes.count
        models = Self.level(names: names, columns: columns, cells: cells, rows)
        // The provider level: each model cell's rows go to its provider's cell of the same minute.
        var providerNames: [(provider: String, model: String)] = []
        var providerOf: [Int32] = []
        for s in names {
            if let p = providerNames.firstIndex(where: { $0.provider == s.provider }) { providerOf.append(Int32(p)) } else {
                providerOf.append(Int32(providerNames.count)); providerNames.append((s.provider, ""))
            }
        }
        if providerNames.count == names.count {
            // One model per provider here: the same cells (scopes are met in the same order).
            providers = models
            providers.names = providerNames
        } else {
            for r in 0..<n {
                let c = Int(cells[r])
                cells[r] = providerOf[c / columns] * Int32(columns) + Int32(c % columns)
            }
            providers = Self.level(names: providerNames, columns: columns, cells: cells, rows)
        }
    }

    /// Counts per cell, and the latencies grouped by cell (a counting sort) with the p95 of each
    /// cell inside the part's stretch of time. The first and last minute's cells are left to
    /// `MinuteTable.assemble`: the row groups before and after mostly hold some of those minutes
    /// too (all of them, when a row group spans seconds), so a p95 here would be thrown away.
    static func level(names: [(provider: String, model: String)], columns: Int, cells: [Int32], _ rows: Rows) -> Level {
        let cellCount = names.count * columns
        var requests = [Int32](repeating: 0, count: cellCount), failed = requests
        var failedCost = [Double](repeating: 0, count: cellCount)
        var start = [Int32](repeating: 0, count: cellCount + 1)
        let n = cells.count
        cells.withUnsafeBufferPointer { cells in
            requests.withUnsafeMutableBufferPointer { requests in
                failed.withUnsafeMutableBufferPointer { failed in
                    rows.failed.withUnsafeBufferPointer { isFailed in
                        for r in 0..<n {
                            let c = Int(cells[r])
                            requests[c] &+= 1
                            if isFailed[r] { failed[c] &+= 1; failedCost[c] += rows.cost(r) }
                        }
                    }
                }
            }
            start.withUnsafeMutableBufferPointer { start in
                if let valid = rows.latencyValid {
                    for r in 0..<n where valid[r] { start[Int(cells[r]) + 1] &+= 1 }
                } else {
                    for c in 0..<cellCount { start[c + 1] = requests[c] }
                }
                for c in 0..<cellCount { start[c + 1] &+= start[c] }
            }
        }
        var next = start
        var latencies = [Double](unsafeUninitializedCapacity: Int(start[cellCount])) { out, count in
            cells.withUnsafeBufferPointer { cells in
                rows.latency.withUnsafeBufferPointer { latency in
                    next.withUnsafeMutableBufferPointer { next in
                        if let valid = rows.latencyValid {
                            for r in 0..<n where valid[r] {
                                let c = Int(cells[r])
                                out[Int(next[c])] = latency[r]
                                next[c] &+= 1
                            }
                        } else {
                            for r in 0..<n {
                                let c = Int(cells[r])
                                out[Int(next[c])] = latency[r]
                                next[c] &+= 1
                            }
                        }
                    }
                }
            }
            count = Int(start[cellCount])
        }
        var p95 = [Double?](repeating: nil, count: cellCount)
        latencies.withUnsafeMutableBufferPointer { all in
            for c in 0..<cellCount where start[c + 1] > start[c] && c % columns != 0 && c % columns != columns - 1 {
                p95[c] = MinuteTable.p95(UnsafeMutableBufferPointer(rebasing: all[Int(start[c])..<Int(start[c + 1])]))
            }
        }
        return Level(names: names, requests: requests, failed: failed, failedCost: failedCost, p95: p95, start: start, latencies: latencies)
    }
}
