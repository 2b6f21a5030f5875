import PlumbCore

/// A span being filled in as a call goes through the proxy: the request side first, then the
/// upstream's answer, then the end (done, failed or cancelled).
struct SpanDraft {
    var span: Span
    let startNanos: UInt64
    var requestBody: BodyCapture
    var responseBody: BodyCapture
    var storeBodies: Bool
    /// Where the call's price is looked up (its provider's table unless set: a cloud's catalog).
    var priceKey: PriceKey?

    init(spanID: String, startMicros: Int64, startNanos: UInt64, method: String, bodyCap: Int, storeBodies: Bool) {
        span = Span(spanID: spanID, tsStart: startMicros, tsEnd: startMicros, method: method)
        self.startNanos = startNanos
        requestBody = BodyCapture(cap: bodyCap)
        responseBody = BodyCapture(cap: bodyCap)
        self.storeBodies = storeBodies
    }

    /// What the caller's headers say (the key's fingerprint is the connection's to compute).
    mutating func caller(_ h: CallerHeaders) {
        span.sessionID = h.sessionID
        span.userID = h.userID
        span.properties = h.properties
        span.traceID = h.traceID
        span.parentSpanID = h.parentSpanID
        if h.omitBodies { storeBodies = false }
    }

    /// Real model names are short (a fine-tune's is under 100 bytes); longer is cut, not kept whole.
    static let maxModelBytes = 256

    static func bounded(_ name: String) -> String { name.prefix(utf8Bytes: maxModelBytes) }

    /// The finished span: times from the monotonic clock, usage, cost and (unless omitted) bodies.
    mutating func finish(usage: CallUsage, prices: PriceCatalog, status: Int, errorType: String?, endNanos: UInt64) -> Span {
        span.status = Int64(status)
        span.errorType = errorType
        span.latencyMs = Monotonic.millis(from: startNanos, to: endNanos)
        span.tsEnd = span.tsStart + Int64(span.latencyMs * 1000)
        // Model names come from the caller's body and the upstream's answer: kept to a bound.
        span.modelRequested = span.modelRequested.map(Self.bounded)
        span.model = (usage.model ?? span.modelRequested).map(Self.bounded)
        span.finishReason = usage.finishReason
        span.inputTokens = usage.inputTokens
        span.outputTokens = usage.outputTokens
        span.cacheReadTokens = usage.cacheReadTokens
        span.cacheWriteTokens = usage.cacheWriteTokens
        span.reasoningTokens = usage.reasoningTokens
        if let model = span.model {
            let key = priceKey ?? PriceKey(provider: span.provider)
            var price = prices.price(key, model: model)
            // Vertex AI's path names the exact version asked for (`claude-sonnet-4-5@20250929`),
            // which is how its catalog lists models; an answer may spell the model otherwise.
            if price == nil, key.catalog == "vertex", let asked = span.modelRequested { price = prices.price(key, model: asked) }
            span.costUSD = price?.cost(of: usage)
        }
        span.requestBytes = Int64(requestBody.total)
        span.responseBytes = Int64(responseBody.total)
        if storeBodies {
            if requestBody.total > 0 { span.requestBody = requestBody.text }
            if responseBody.total > 0 { span.responseBody = responseBody.text }
            if requestBody.truncated { span.properties["plumb.request_body_truncated"] = "true" }
            if responseBody.truncated { span.properties["plumb.response_body_truncated"] = "true" }
        }
        return span
    }
}
