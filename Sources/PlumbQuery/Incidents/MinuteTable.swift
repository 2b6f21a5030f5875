/// The figures of one window for one level (providers, or provider and model pairs):
/// per scope and minute, requests, failures, the failures' cost and the p95 latency.
///
/// ```swift
/// for s in table.names.indices { let minutes = table.buckets(scope: s) }
/// ```
struct MinuteTable {
    var names: [(provider: String, model: String)]
    let firstMinute: Int64
    let minutes: Int
    var requests: [Int32]
    var failed: [Int32]
    var failedCost: [Double]
    var p95: [Double]
    var hasP95: [Bool]
    /// Parts (by index) whose row groups must be read again for their latencies: the table is
    /// not to be judged until they are (`MinuteTable.assemble`).
    var unresolved: Set<Int> = []

    static let minute: Int64 = 60_000_000

    static func floorMinute(_ ts: Int64) -> Int64 {
        ts >= 0 ? ts / minute : -((-ts + minute - 1) / minute)
    }

    init(names: [(provider: String, model: String)], firstMinute: Int64, minutes: Int, requests: [Int32], failed: [Int32], failedCost: [Double]) {
        self.names = names; self.firstMinute = firstMinute; self.minutes = minutes
        self.requests = requests; self.failed = failed; self.failedCost = failedCost
        p95 = [Double](repeating: 0, count: requests.count)
        hasP95 = [Bool](repeating: false, count: requests.count)
    }

    mutating func setP95(_ cell: Int, _ value: Double) { p95[cell] = value; hasP95[cell] = true }

    /// DuckDB's `quantile_cont(x, 0.95)` of `v` (not empty): interpolated between the two
    /// nearest ranks. Reorders `v`.
    static func p95(_ v: UnsafeMutableBufferPointer<Double>) -> Double {
        let (below, above, frac) = QuantileAccumulator.positions(v.count, fraction: 0.95, continuous: true)
        let (a, b) = ranks(v, below, above)
        return above == below ? a : a + frac * (b - a)
    }

    /// The values of rank `below` and `above` (`above` is `below` or the next one) in `v`,
    /// reordering it. A p95's ranks are near the top: with few values above them, the largest
    /// are moved to the end one by one (O(n) each); with many values, one partition around a
    /// pivot sampled below the rank (about the 84th percentile for a p95) leaves a sixth of the
    /// values to select in (the idea of Floyd and Rivest's SELECT, CACM 18(3), 1975), and the
    /// partition's branch is well predicted. A pivot above the rank (a misleading sample) only
    /// costs that pass: the selection then runs over all the values.
    static func ranks(_ v: UnsafeMutableBufferPointer<Double>, _ below: Int, _ above: Int) -> (Double, Double) {
        let n = v.count
        if n - below <= 3 {
            var j = n - 1
            while j >= below {
                var top = j
                for i in 0..<j where v[i] > v[top] { top = i }
                v.swapAt(top, j)
                j -= 1
            }
            return (v[below], v[above])
        }
        var lo = 0
        if n >= 256, let pivot = sampledPivot(v, below) {
            // v[..<i] < pivot ≤ v[i...]; the ranks are in the tail unless the sample misled.
            var i = 0, j = n - 1
            while true {
                while i <= j && v[i] < pivot { i += 1 }
                while i <= j && !(v[j] < pivot) { j -= 1 }
                if i >= j { break }
                v.swapAt(i, j); i += 1; j -= 1
            }
            if i <= below { lo = i }
        }
        let tail = UnsafeMutableBufferPointer(rebasing: v[lo...])
        Selection.select(tail, below - lo, <)
        var next = v[above]
        if above > below { for i in above..<n where v[i] < next { next = v[i] } }
        return (v[below], next)
    }

    /// A value below rank `k` of `v`: from 63 values sampled at even strides, the one about 2.5
    /// standard errors of the sample quantile (and one sample) lower. nil when a sampled value
    /// is NaN or the rank is too low to sample below (NaNs elsewhere sort as large in the
    /// partition, as `<` leaves them).
    static func sampledPivot(_ v: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double? {
        let s = 63, stride = v.count / s
        var sample = (0..<s).map { v[$0 * stride] }
        guard !sample.contains(where: \.isNaN) else { return nil }
        sample.sort()
        let q = Double(k) / Double(v.count)
        let margin = 2.5 * (q * (1 - q) / Double(s)).squareRoot() + 1 / Double(s)
        let at = Int(((q - margin) * Double(s - 1)).rounded(.down))
        return at > 0 ? sample[at] : nil
    }

    /// The scope's minutes that had requests, in time order.
    func buckets(scope: Int) -> [IncidentDetector.Bucket] {
        var out: [IncidentDetector.Bucket] = []
        let base = scope * minutes
        for m in 0..<minutes where requests[base + m] > 0 {
            let c = base + m
            out.append(IncidentDetector.Bucket(
                minute: (firstMinute + Int64(m)) * Self.minute, requests: Int64(requests[c]), failed: Int64(failed[c]),
                p95: hasP95[c] ? p95[c] : nil, failedCost: failedCost[c]))
        }
        return out
    }
}
