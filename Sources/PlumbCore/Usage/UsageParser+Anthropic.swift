extension UsageParser {
    /// Anthropic messages, whole and streamed. Source: Anthropic Messages API reference:
    /// `usage.input_tokens` excludes cache reads and writes (`cache_read_input_tokens`,
    /// `cache_creation_input_tokens`), so Plumb's input is their sum; a stream reports input in
    /// `message_start` and the cumulative `output_tokens` in each `message_delta`.
    public struct Anthropic: ResponseUsageParser {
        public private(set) var usage = CallUsage()
        var uncachedInput: Int64?
        public init() {}

        public mutating func body(_ json: JSONValue) {
            message(json)
        }

        public mutating func event(_ event: SSEEvent) {
            // Only message_start and message_delta hold what the span needs; the many
            // content_block_delta events of a long stream skip the parse.
            guard JSONKeyProbe.any(of: Self.mayCarryProbes, in: event.data), let json = event.json else { return }
            switch json["type"]?.stringValue {
            case "message_start":
                if let m = json["message"] { message(m) }
            case "message_delta":
                if let reason = json["delta"]?["stop_reason"]?.stringValue { usage.finishReason = reason }
                if let u = json["usage"] { tokens(u) }
            default:
                break
            }
        }

        static let mayCarryProbes = [JSONKeyProbe("\"usage\"", notNull: true), JSONKeyProbe("\"stop_reason\"", notNull: true),
                                     JSONKeyProbe("\"model\"", notNull: false)]

        mutating func message(_ m: JSONValue) {
            if let model = m["model"]?.stringValue, !model.isEmpty { usage.model = model }
            if let reason = m["stop_reason"]?.stringValue { usage.finishReason = reason }
            if let u = m["usage"] { tokens(u) }
        }

        /// A usage object; fields it lacks keep their earlier values (message_delta repeats only some).
        mutating func tokens(_ u: JSONValue) {
            guard case .object = u else { return }
            if let v = u["input_tokens"]?.intValue { uncachedInput = v }
            if let v = u["cache_read_input_tokens"]?.intValue { usage.cacheReadTokens = v }
            if let v = u["cache_creation_input_tokens"]?.intValue { usage.cacheWriteTokens = v }
            if let v = u["output_tokens"]?.intValue { usage.outputTokens = v }
            if let input = uncachedInput {
                usage.inputTokens = CallUsage.sum(input, usage.cacheReadTokens ?? 0, usage.cacheWriteTokens ?? 0)
            }
        }
    }
}
