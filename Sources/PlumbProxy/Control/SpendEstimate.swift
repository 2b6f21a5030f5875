import PlumbCore

/// What a call may cost before it is answered, for the budgets it counts against while in
/// flight: its prompt at about 4 bytes a token (the request body's bytes, JSON included, so
/// rather more than fewer) at the input price, plus its `max_tokens` (or the configured
/// default) at the output price. Zero for a model without a price: such calls cost nothing a
/// budget can count.
///
/// ```swift
/// SpendEstimate.nanos(price: ModelPrice(input: 2.5e-6, output: 1e-5), requestBytes: 4_000, maxTokens: 500, defaultMaxTokens: 4096)
/// // (1_000 × 2.5e-6 + 500 × 1e-5) USD = 7_500_000 nanodollars
/// ```
enum SpendEstimate {
    static func nanos(price: ModelPrice?, requestBytes: Int, maxTokens: Int64?, defaultMaxTokens: Int64) -> Int64 {
        guard let price else { return 0 }
        let input = Double((requestBytes + 3) / 4), output = Double(maxTokens ?? defaultMaxTokens)
        return Money.nanos(input * price.input + output * price.output)
    }
}
