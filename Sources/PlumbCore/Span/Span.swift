/// One recorded LLM call: a row of the `spans` table (span schema v1, `schemas/span.schema.json`).
///
/// ```swift
/// var span = Span(spanID: SpanID.generate(), tsStart: now, tsEnd: now + 1_200)
/// span.provider = "openai"
/// span.inputTokens = 42
/// ```
/// Timestamps are microseconds since the Unix epoch, UTC. Durations are milliseconds.
public struct Span: Sendable, Hashable {
    public var spanID: String
    public var traceID: String?
    public var parentSpanID: String?
    public var sessionID: String?
    public var userID: String?
    public var tsStart: Int64
    public var tsEnd: Int64
    public var latencyMs: Double
    public var ttftMs: Double?
    public var upstreamMs: Double
    public var provider: String
    public var modelRequested: String?
    public var model: String?
    public var operation: String
    public var endpoint: String
    public var method: String
    public var stream: Bool
    public var status: Int64
    public var errorType: String?
    public var finishReason: String?
    public var inputTokens: Int64?
    public var outputTokens: Int64?
    public var cacheReadTokens: Int64?
    public var cacheWriteTokens: Int64?
    public var reasoningTokens: Int64?
    public var costUSD: Double?
    public var requestBytes: Int64
    public var responseBytes: Int64
    public var apiKeyHash: String?
    public var properties: [String: String]
    public var requestBody: String?
    public var responseBody: String?

    public init(
        spanID: String, traceID: String? = nil, parentSpanID: String? = nil,
        sessionID: String? = nil, userID: String? = nil,
        tsStart: Int64, tsEnd: Int64, latencyMs: Double = 0, ttftMs: Double? = nil, upstreamMs: Double = 0,
        provider: String = "", modelRequested: String? = nil, model: String? = nil,
        operation: String = "other", endpoint: String = "", method: String = "POST",
        stream: Bool = false, status: Int64 = 200, errorType: String? = nil, finishReason: String? = nil,
        inputTokens: Int64? = nil, outputTokens: Int64? = nil, cacheReadTokens: Int64? = nil,
        cacheWriteTokens: Int64? = nil, reasoningTokens: Int64? = nil, costUSD: Double? = nil,
        requestBytes: Int64 = 0, responseBytes: Int64 = 0, apiKeyHash: String? = nil,
        properties: [String: String] = [:], requestBody: String? = nil, responseBody: String? = nil
    ) {
        self.spanID = spanID; self.traceID = traceID; self.parentSpanID = parentSpanID
        self.sessionID = sessionID; self.userID = userID
        self.tsStart = tsStart; self.tsEnd = tsEnd; self.latencyMs = latencyMs; self.ttftMs = ttftMs
        self.upstreamMs = upstreamMs; self.provider = provider; self.modelRequested = modelRequested
        self.model = model; self.operation = operation; self.endpoint = endpoint; self.method = method
        self.stream = stream; self.status = status; self.errorType = errorType; self.finishReason = finishReason
        self.inputTokens = inputTokens; self.outputTokens = outputTokens; self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens; self.reasoningTokens = reasoningTokens; self.costUSD = costUSD
        self.requestBytes = requestBytes; self.responseBytes = responseBytes; self.apiKeyHash = apiKeyHash
        self.properties = properties; self.requestBody = requestBody; self.responseBody = responseBody
    }
}
