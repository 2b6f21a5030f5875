extension UsageParser {
    /// OpenAI chat completions, completions, embeddings and Responses, whole and streamed.
    /// Source: OpenAI API reference (chat `usage.prompt_tokens` includes
    /// `prompt_tokens_details.cached_tokens`; `completion_tokens` includes
    /// `completion_tokens_details.reasoning_tokens`; the Responses API names them
    /// `input_tokens`/`output_tokens` with `input_tokens_details`/`output_tokens_details`).
    public struct OpenAI: ResponseUsageParser {
        public private(set) var usage = CallUsage()
        public init() {}

        public mutating func body(_ json: JSONValue) {
            if let type = json["object"]?.stringValue, type == "response" || json["output"] != nil {
                response(json)
                return
            }
            chunk(json)
        }

        public mutating func event(_ event: SSEEvent) {
            // Most chunks of a long stream carry one token and nothing the span needs: skip
            // building their JSON (the bulk of a chunk's cost: 35 µs a chunk through Plumb).
            if usage.model != nil && !Self.mayCarryUsage(event.data) { return }
            guard let json = event.json else { return }
            if let type = json["type"]?.stringValue, type.hasPrefix("response.") {
                // Responses API stream: the final event carries the whole response with usage.
                if let r = json["response"], case .object = r { response(r) }
                return
            }
            chunk(json)
        }

        /// Whether a chunk's JSON may hold what `chunk` or `response` read once the model is known:
        /// a `finish_reason` or `usage` that is not null, or a `type` (the Responses API's events,
        /// and tool calls, take the full path). Conservative: a key inside a string is escaped
        /// (`\"usage\"`), so a match is a real key or, at worst, a needless parse.
        static func mayCarryUsage(_ data: [UInt8]) -> Bool {
            JSONKeyProbe.any(of: mayCarryProbes, in: data)
        }

        static let mayCarryProbes = [JSONKeyProbe("\"finish_reason\"", notNull: true), JSONKeyProbe("\"usage\"", notNull: true),
                                     JSONKeyProbe("\"type\"", notNull: false)]
        static let usageProbes = [JSONKeyProbe("\"usage\"", notNull: true)]

        /// Whether a chunk's JSON has a `usage` member that is not null (conservative as above).
        public static func carriesUsage(_ data: [UInt8]) -> Bool {
            JSONKeyProbe.any(of: usageProbes, in: data)
        }

        /// A chat completion, completion or embeddings body, or one streamed chunk of the first two.
        mutating func chunk(_ json: JSONValue) {
            if let m = json["model"]?.stringValue, !m.isEmpty { usage.model = m }
            if let code = json["error"]?["code"]?.stringValue { usage.errorCode = code }
            if case .array(let choices)? = json["choices"] {
                for c in choices { if let f = c["finish_reason"]?.stringValue { usage.finishReason = f } }
            }
            if let u = json["usage"], case .object = u {
                usage.inputTokens = u["prompt_tokens"]?.intValue
                usage.outputTokens = u["completion_tokens"]?.intValue
                usage.cacheReadTokens = u["prompt_tokens_details"]?["cached_tokens"]?.intValue
                usage.reasoningTokens = u["completion_tokens_details"]?["reasoning_tokens"]?.intValue
            }
        }

        /// A Responses API response object.
        mutating func response(_ r: JSONValue) {
            if let m = r["model"]?.stringValue, !m.isEmpty { usage.model = m }
            if let reason = r["incomplete_details"]?["reason"]?.stringValue { usage.finishReason = reason }
            else if let status = r["status"]?.stringValue { usage.finishReason = status }
            if let u = r["usage"], case .object = u {
                usage.inputTokens = u["input_tokens"]?.intValue
                usage.outputTokens = u["output_tokens"]?.intValue
                usage.cacheReadTokens = u["input_tokens_details"]?["cached_tokens"]?.intValue
                usage.reasoningTokens = u["output_tokens_details"]?["reasoning_tokens"]?.intValue
            }
        }
    }
}
