/// Per-token prices of one model, in USD.
public struct ModelPrice: Sendable, Equatable {
    public var input: Double
    public var output: Double
    /// Price of a cached input token read; nil means the catalog gives none (billed as input).
    public var cacheRead: Double?
    /// Price of an input token written to the cache; nil means billed as input.
    public var cacheWrite: Double?

    public init(input: Double, output: Double, cacheRead: Double? = nil, cacheWrite: Double? = nil) {
        self.input = input; self.output = output; self.cacheRead = cacheRead; self.cacheWrite = cacheWrite
    }

    /// Cost = uncached input × input + cache reads × read + cache writes × write + output × output
    /// (DESIGN.md, "Pricing"). `usage.inputTokens` counts cached tokens too, so they are taken out.
    /// Nil when the usage has no token counts at all.
    ///
    /// ```swift
    /// ModelPrice(input: 3e-6, output: 1.5e-5).cost(of: CallUsage(inputTokens: 1000, outputTokens: 100))  // 0.0045
    /// ```
    public func cost(of usage: CallUsage) -> Double? {
        guard usage.hasTokens else { return nil }
        let read = Double(usage.cacheReadTokens ?? 0), write = Double(usage.cacheWriteTokens ?? 0)
        let uncached = max(0, Double(usage.inputTokens ?? 0) - read - write)
        return uncached * input + read * (cacheRead ?? input) + write * (cacheWrite ?? input)
            + Double(usage.outputTokens ?? 0) * output
    }
}
