extension UsageParser {
    /// Gemini generateContent and streamGenerateContent (SSE with `alt=sse`, else a JSON array).
    /// Source: Gemini API reference, `UsageMetadata`: `promptTokenCount` includes
    /// `cachedContentTokenCount`; `candidatesTokenCount` excludes `thoughtsTokenCount`, so
    /// Plumb's output is their sum. Streamed chunks carry cumulative usage; the last one wins.
    public struct Gemini: ResponseUsageParser {
        public private(set) var usage = CallUsage()
        public init() {}

        public mutating func body(_ json: JSONValue) {
            if case .array(let items) = json {
                for item in items { response(item) }
            } else {
                response(json)
            }
        }

        public mutating func event(_ event: SSEEvent) {
            if let json = event.json { body(json) }
        }

        mutating func response(_ r: JSONValue) {
            if let m = r["modelVersion"]?.stringValue, !m.isEmpty { usage.model = m }
            if case .array(let candidates)? = r["candidates"] {
                for c in candidates { if let f = c["finishReason"]?.stringValue { usage.finishReason = f } }
            }
            guard let u = r["usageMetadata"], case .object = u else { return }
            usage.inputTokens = u["promptTokenCount"]?.intValue
            let candidates = u["candidatesTokenCount"]?.intValue
            let thoughts = u["thoughtsTokenCount"]?.intValue
            usage.outputTokens = candidates == nil && thoughts == nil ? nil : (candidates ?? 0) + (thoughts ?? 0)
            usage.reasoningTokens = thoughts
            usage.cacheReadTokens = u["cachedContentTokenCount"]?.intValue
        }
    }
}
