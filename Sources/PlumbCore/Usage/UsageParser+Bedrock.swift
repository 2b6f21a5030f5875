import Foundation

extension UsageParser {
    /// AWS Bedrock Runtime, whole and streamed (docs/design/clouds.md §2). Sources: the Bedrock
    /// API reference (`TokenUsage`: `inputTokens` without the cached ones, `cacheReadInputTokens`,
    /// `cacheWriteInputTokens`, `outputTokens`; Converse's `stopReason`; ConverseStream's
    /// `metadata` and `messageStop` events) and the InvokeModel reference (a model's own body:
    /// Anthropic's Messages shape for Claude; streamed as `chunk` events whose base64 `bytes` hold
    /// the model's events, the last with `amazon-bedrock-invocationMetrics`). Bedrock names no
    /// answering model: the span's model is the one the path asked for.
    ///
    /// ```swift
    /// var p = UsageParser.Bedrock()
    /// for m in decoder.feed(bytes) { p.message(m) }
    /// p.usage.inputTokens
    /// ```
    public struct Bedrock: ResponseUsageParser {
        public private(set) var usage = CallUsage()
        /// InvokeModel bodies and chunks of Claude models are Anthropic's.
        var anthropic = Anthropic()
        var invocationMetrics: CallUsage?

        public init() {}

        public mutating func body(_ json: JSONValue) {
            if let u = json["usage"], u["inputTokens"] != nil || u["outputTokens"] != nil {
                // Converse.
                tokenUsage(u)
                if let reason = json["stopReason"]?.stringValue { usage.finishReason = reason }
                return
            }
            // InvokeModel: a Claude body is Anthropic's; Llama's counts are its own.
            anthropic.body(json)
            merge()
            if !usage.hasTokens, let p = json["prompt_token_count"]?.intValue, let g = json["generation_token_count"]?.intValue {
                usage.inputTokens = p; usage.outputTokens = g
                usage.finishReason = json["stop_reason"]?.stringValue
            }
        }

        public mutating func event(_ event: SSEEvent) {}

        /// One event-stream message of ConverseStream or InvokeModelWithResponseStream.
        public mutating func message(_ m: EventStreamMessage) {
            if m.headers[":message-type"] == "exception" {
                // A failure inside a 200 stream (throttlingException, modelStreamErrorException, …).
                usage.errorCode = m.headers[":exception-type"].map { String($0.prefix(64)) } ?? "exception"
                return
            }
            guard m.headers[":message-type"] == "event" || m.headers[":message-type"] == nil else { return }
            switch m.headers[":event-type"] {
            case "metadata":
                if let u = (try? JSONParser.parse(m.payload))?["usage"] { tokenUsage(u) }
            case "messageStop":
                if let reason = (try? JSONParser.parse(m.payload))?["stopReason"]?.stringValue { usage.finishReason = reason }
            case "chunk":
                guard let encoded = (try? JSONParser.parse(m.payload))?["bytes"]?.stringValue,
                      encoded.utf8.count <= EventStreamDecoder.maxMessageBytes,
                      let bytes = Data(base64Encoded: encoded) else { return }
                let inner = Array(bytes)
                anthropic.event(SSEEvent(data: inner, raw: []))
                if let metrics = (try? JSONParser.parse(inner))?["amazon-bedrock-invocationMetrics"] { invocation(metrics) }
                merge()
            default:
                break
            }
        }

        /// `TokenUsage`: Plumb's input counts the cached tokens too.
        mutating func tokenUsage(_ u: JSONValue) {
            let read = u["cacheReadInputTokens"]?.intValue, write = u["cacheWriteInputTokens"]?.intValue
            if let input = u["inputTokens"]?.intValue { usage.inputTokens = CallUsage.sum(input, read ?? 0, write ?? 0) }
            if let output = u["outputTokens"]?.intValue { usage.outputTokens = output }
            usage.cacheReadTokens = read
            usage.cacheWriteTokens = write
        }

        mutating func invocation(_ m: JSONValue) {
            var u = CallUsage()
            let read = m["cacheReadInputTokenCount"]?.intValue, write = m["cacheWriteInputTokenCount"]?.intValue
            if let input = m["inputTokenCount"]?.intValue { u.inputTokens = CallUsage.sum(input, read ?? 0, write ?? 0) }
            u.outputTokens = m["outputTokenCount"]?.intValue
            u.cacheReadTokens = read
            u.cacheWriteTokens = write
            invocationMetrics = u
        }

        /// The model's own events where it gave them, Bedrock's invocation metrics otherwise.
        mutating func merge() {
            let a = anthropic.usage
            usage.finishReason = a.finishReason ?? usage.finishReason
            if a.hasTokens {
                usage.inputTokens = a.inputTokens; usage.outputTokens = a.outputTokens
                usage.cacheReadTokens = a.cacheReadTokens; usage.cacheWriteTokens = a.cacheWriteTokens
            } else if let m = invocationMetrics {
                usage.inputTokens = m.inputTokens; usage.outputTokens = m.outputTokens
                usage.cacheReadTokens = m.cacheReadTokens; usage.cacheWriteTokens = m.cacheWriteTokens
            }
        }

        /// InvokeModel's `X-Amzn-Bedrock-Input-Token-Count` / `-Output-Token-Count` answer
        /// headers: used when the body gave no counts (a model family Plumb does not read).
        public mutating func headerCounts(input: Int64?, output: Int64?) {
            guard !usage.hasTokens, input != nil || output != nil else { return }
            usage.inputTokens = input
            usage.outputTokens = output
        }
    }
}
