/// A DOUBLE column as the segment stores it when every value is a short decimal: integers and
/// a power of ten. Value i is exactly `Double(scaled[i]) / 10^exponent` (the store checked that
/// this reproduces each double bit for bit), so comparisons with a constant become integer
/// comparisons and sums add integers, dividing once per group and batch.
public struct DecimalValues: Sendable {
    public var scaled: [Int64]
    public var exponent: Int

    static let powers: [Double] = (0...18).map { e in (0..<e).reduce(1.0) { acc, _ in acc * 10 } }

    var power: Double { Self.powers[exponent] }

    public var count: Int { scaled.count }

    @inline(__always) public func double(_ i: Int) -> Double { Double(scaled[i]) / power }

    public var doubles: [Double] {
        let p = power
        return scaled.map { Double($0) / p }
    }

    public func gather(_ indices: [Int]) -> DecimalValues {
        DecimalValues(scaled: indices.map { scaled[$0] }, exponent: exponent)
    }

    /// The largest n with `Double(n) / 10^e <= k` and the smallest with `>= k` (the map from n to
    /// its double is monotonic), or nil when k is out of the range worth handling.
    func bounds(_ k: Double) -> (atMost: Int64, atLeast: Int64)? {
        let p = power
        let guess = (k * p).rounded(.down)
        guard guess.isFinite, abs(guess) < 9.0e15 else { return nil }
        var n = Int64(guess)
        while Double(n + 1) / p <= k { n += 1 }
        while Double(n) / p > k { n -= 1 }
        var m = n
        while Double(m) / p < k { m += 1 }
        while Double(m - 1) / p >= k { m -= 1 }
        return (n, m)
    }
}
