import PlumbCore

extension OTLPSpan {
    /// What the mapping needs to know of a span's provider beyond its name.
    public struct ProviderInfo: Sendable {
        public var shape: APIShape
        public var serverAddress: String?
        public var serverPort: Int?

        public init(shape: APIShape, serverAddress: String?, serverPort: Int?) {
            self.shape = shape; self.serverAddress = serverAddress; self.serverPort = serverPort
        }

        /// From a provider's base URL (`https://api.openai.com` → api.openai.com, 443).
        public init(_ p: Provider) {
            shape = p.shape
            var rest = Substring(p.baseURL)
            var port: Int? = nil
            if rest.hasPrefix("https://") { rest = rest.dropFirst(8); port = 443 } else if rest.hasPrefix("http://") { rest = rest.dropFirst(7); port = 80 }
            let authority = rest.prefix { $0 != "/" }
            var host = authority
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                host = authority[authority.index(after: authority.startIndex)..<close]
                if let colon = authority[close...].firstIndex(of: ":") { port = Int(authority[authority.index(after: colon)...]) ?? port }
            } else if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                port = Int(authority[authority.index(after: colon)...]) ?? port
            }
            serverAddress = host.isEmpty ? nil : String(host)
            serverPort = port
        }
    }

    /// `gen_ai.provider.name` for Plumb's built-in provider names (schemas/otel-genai-mapping.md);
    /// others are sent as they are.
    static let wellKnownProviders = [
        "openai": "openai", "anthropic": "anthropic", "gemini": "gcp.gemini", "mistral": "mistral_ai",
        "groq": "groq", "deepseek": "deepseek", "xai": "x_ai",
    ]

    /// `gen_ai.provider.name`: the convention's name for a cloud's API (`azure.ai.openai`, and
    /// `azure.ai.inference` for AI Foundry's model inference paths), else by provider name.
    static func providerName(_ span: Span, shape: APIShape?) -> String {
        if shape == .azure { return span.endpoint.hasPrefix("/models/") ? "azure.ai.inference" : "azure.ai.openai" }
        if shape == .bedrock { return "aws.bedrock" }
        if shape == .vertex { return "gcp.vertex_ai" }
        return wellKnownProviders[span.provider] ?? span.provider
    }

    /// `gen_ai.operation.name` for Plumb's operations; `other` has none.
    static let operationNames = [
        "chat": "chat", "messages": "chat", "responses": "chat", "completion": "text_completion",
        "generate": "generate_content", "embeddings": "embeddings",
    ]

    /// One Plumb span as an OTLP span, by schemas/otel-genai-mapping.md. With `bodies`, the raw
    /// bodies (already on `span`) become the GenAI message attributes.
    ///
    /// ```swift
    /// let o = OTLPSpan(span, provider: .init(shape: .openai, serverAddress: "api.openai.com", serverPort: 443), bodies: false)
    /// o.name   // "chat gpt-4o"
    /// ```
    public init(_ span: Span, provider: ProviderInfo?, bodies: Bool) {
        let own = Hex.decode(span.spanID).flatMap { $0.count == 16 ? $0 : nil } ?? Self.fallbackID(span.spanID)
        if let t = span.traceID.flatMap(Hex.decode), t.count == 16, t.contains(where: { $0 != 0 }) {
            traceID = t
            parentSpanID = span.parentSpanID.flatMap(Hex.decode).flatMap { $0.count == 8 && $0.contains(where: { $0 != 0 }) ? $0 : nil } ?? []
        } else {
            // No traceparent: the span is its own trace, with Plumb's 16-byte id as trace id.
            traceID = own
            parentSpanID = []
        }
        // The low 64 bits of the UUIDv7 are random (the high ones are the time).
        spanID = Array(own[8..<16])
        if spanID.allSatisfy({ $0 == 0 }) { spanID[7] = 1 }
        let operation = Self.operationNames[span.operation]
        let model = span.modelRequested ?? span.model
        if let operation {
            name = model.map { "\(operation) \($0)" } ?? operation
        } else {
            name = span.method
        }
        startNanos = UInt64(max(0, span.tsStart)) &* 1000
        endNanos = max(startNanos, UInt64(max(0, span.tsEnd)) &* 1000)
        isError = span.errorType != nil
        statusMessage = span.errorType ?? ""

        var a: [(key: String, value: Value)] = []
        a.reserveCapacity(32)
        if let operation { a.append(("gen_ai.operation.name", .string(operation))) }
        a.append(("gen_ai.provider.name", .string(Self.providerName(span, shape: provider?.shape))))
        if let m = span.modelRequested { a.append(("gen_ai.request.model", .string(m))) }
        if let m = span.model { a.append(("gen_ai.response.model", .string(m))) }
        if operation != nil { a.append(("gen_ai.request.stream", .bool(span.stream))) }
        if let f = span.finishReason { a.append(("gen_ai.response.finish_reasons", .strings([f]))) }
        if let n = span.inputTokens { a.append(("gen_ai.usage.input_tokens", .int(n))) }
        if let n = span.outputTokens { a.append(("gen_ai.usage.output_tokens", .int(n))) }
        if let n = span.cacheReadTokens { a.append(("gen_ai.usage.cache_read.input_tokens", .int(n))) }
        if let n = span.cacheWriteTokens { a.append(("gen_ai.usage.cache_creation.input_tokens", .int(n))) }
        if let n = span.reasoningTokens { a.append(("gen_ai.usage.reasoning.output_tokens", .int(n))) }
        if span.stream, let t = span.ttftMs { a.append(("gen_ai.response.time_to_first_chunk", .double(t / 1000))) }
        if let s = span.sessionID {
            a.append(("gen_ai.conversation.id", .string(s)))
            a.append(("session.id", .string(s)))
        }
        if let u = span.userID { a.append(("user.id", .string(u))) }
        if let e = span.errorType { a.append(("error.type", .string(e))) }
        a.append(("http.request.method", .string(span.method)))
        a.append(("http.response.status_code", .int(span.status)))
        a.append(("url.path", .string(String(span.endpoint.prefix { $0 != "?" }))))
        if let host = provider?.serverAddress { a.append(("server.address", .string(host))) }
        if let port = provider?.serverPort { a.append(("server.port", .int(Int64(port)))) }
        a.append(("http.request.body.size", .int(span.requestBytes)))
        a.append(("http.response.body.size", .int(span.responseBytes)))
        a.append(("plumb.span_id", .string(span.spanID)))
        a.append(("plumb.upstream_ms", .double(span.upstreamMs)))
        if let c = span.costUSD { a.append(("plumb.cost_usd", .double(c))) }
        if let k = span.apiKeyHash { a.append(("plumb.api_key_hash", .string(k))) }
        for key in span.properties.keys.sorted() { a.append(("plumb.property." + key, .string(span.properties[key]!))) }
        if bodies, let shape = provider?.shape {
            let m = GenAIMessages.convert(shape: shape, operation: span.operation, requestBody: span.requestBody,
                                          responseBody: span.responseBody, stream: span.stream)
            if let s = m.systemInstructions { a.append(("gen_ai.system_instructions", .string(s))) }
            if let s = m.input { a.append(("gen_ai.input.messages", .string(s))) }
            if let s = m.output { a.append(("gen_ai.output.messages", .string(s))) }
        }
        attributes = a
    }

    /// A span id that is not 32 hex digits (an imported span) still gets a stable 16-byte id.
    static func fallbackID(_ id: String) -> [UInt8] {
        Array(SHA256.digest(Array(id.utf8)).prefix(16))
    }
}
