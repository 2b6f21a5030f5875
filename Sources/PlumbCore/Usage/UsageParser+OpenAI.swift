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
            guard let json = event.json else { return }
            if let type = json["type"]?.stringValue, type.hasPrefix("response.") {
                // Responses API stream: the final event carries the whole response with usage.
                if let r = json["response"], case .object = r { response(r) }
                return
            }
            chunk(json)
        }

        /// A chat completion, completion or embeddings body, or one streamed chunk of the first two.
        mutating func chunk(_ json: JSONValue) {
            if let m = json["model"]?.stringValue, !m.isEmpty { usage.model = m }
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
