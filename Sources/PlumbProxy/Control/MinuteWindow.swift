/// A count over the last 60 seconds in one-second buckets: what a requests- or
/// tokens-per-minute limit compares with. Constant memory (60 counters), exact to the second:
/// whatever is added at second `s` counts until second `s + 60`, so no 60 seconds ever see
/// more than the limit admitted.
///
/// ```swift
/// var w = MinuteWindow()
/// w.add(1, atSecond: 100)
/// w.total(atSecond: 159)   // 1
/// w.total(atSecond: 160)   // 0
/// ```
struct MinuteWindow: Sendable {
    private var counts = [Int64](repeating: 0, count: 60)
    private var stamps = [Int64](repeating: .min, count: 60)

    mutating func add(_ n: Int64, atSecond s: Int64) {
        let i = Int(((s % 60) + 60) % 60)
        if stamps[i] != s { stamps[i] = s; counts[i] = 0 }
        counts[i] += n
    }

    func total(atSecond s: Int64) -> Int64 {
        var sum: Int64 = 0
        for i in 0..<60 where stamps[i] > s - 60 && stamps[i] <= s { sum += counts[i] }
        return sum
    }

    /// Seconds until the total is below `limit` (0 if it is now).
    func secondsUntilBelow(_ limit: Int64, atSecond s: Int64) -> Int64 {
        var total = total(atSecond: s)
        guard total >= limit else { return 0 }
        // Buckets leave oldest first: the one from second b is gone at b + 60.
        let live = (0..<60).filter { stamps[$0] > s - 60 && stamps[$0] <= s }.sorted { stamps[$0] < stamps[$1] }
        for i in live {
            total -= counts[i]
            if total < limit { return stamps[i] + 60 - s }
        }
        return 60
    }

    /// Seconds until every bucket now counted has left (OpenAI's `x-ratelimit-reset-*`: until
    /// the limit is whole again).
    func secondsUntilEmpty(atSecond s: Int64) -> Int64 {
        var newest: Int64?
        for i in 0..<60 where stamps[i] > s - 60 && stamps[i] <= s && counts[i] > 0 { newest = max(newest ?? stamps[i], stamps[i]) }
        return newest.map { $0 + 60 - s } ?? 0
    }
}
