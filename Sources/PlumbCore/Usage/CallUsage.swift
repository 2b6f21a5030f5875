/// What a provider's response says about a call: the model that answered, why it stopped, and
/// the tokens, under Plumb's conventions (OTel GenAI): `inputTokens` counts every input token,
/// cached ones included; `outputTokens` counts reasoning tokens too.
public struct CallUsage: Sendable, Equatable {
    public var model: String?
    public var finishReason: String?
    public var inputTokens: Int64?
    public var outputTokens: Int64?
    public var cacheReadTokens: Int64?
    public var cacheWriteTokens: Int64?
    public var reasoningTokens: Int64?
    /// `error.code` of an error body in OpenAI's shape (Azure's `content_filter`, say).
    public var errorCode: String?

    public init(model: String? = nil, finishReason: String? = nil, inputTokens: Int64? = nil,
                outputTokens: Int64? = nil, cacheReadTokens: Int64? = nil, cacheWriteTokens: Int64? = nil,
                reasoningTokens: Int64? = nil, errorCode: String? = nil) {
        self.errorCode = errorCode
        self.model = model; self.finishReason = finishReason; self.inputTokens = inputTokens
        self.outputTokens = outputTokens; self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens; self.reasoningTokens = reasoningTokens
    }

    /// The provider refused the prompt or cut the completion by its content filter (Azure
    /// OpenAI: a 400 with `error.code = content_filter`, or `finish_reason = content_filter`;
    /// Bedrock: `stopReason` `content_filtered` or `guardrail_intervened`).
    public var contentFiltered: Bool {
        errorCode == "content_filter" || finishReason == "content_filter" || finishReason == "content_filtered"
            || finishReason == "guardrail_intervened"
    }

    /// Token counts added up as the providers' conventions need (input and its cached parts),
    /// saturating: a count from the wire is not trusted to fit.
    public static func sum(_ values: Int64...) -> Int64 {
        values.reduce(0) { a, b in
            let (s, overflow) = a.addingReportingOverflow(b)
            return overflow ? (b > 0 ? .max : .min) : s
        }
    }

    /// True when the response reported any token count.
    public var hasTokens: Bool { inputTokens != nil || outputTokens != nil }
}

/// Reads a provider's responses, whole or as a stream of server-sent events, into `CallUsage`.
///
/// ```swift
/// var parser = UsageParser.make(for: .anthropic)
/// for event in events { parser.event(event) }
/// parser.usage.outputTokens
/// ```
public protocol ResponseUsageParser: Sendable {
    /// A whole JSON response body (or, for Gemini's non-SSE stream, the array of responses).
    mutating func body(_ json: JSONValue)
    /// One event of a server-sent event stream.
    mutating func event(_ event: SSEEvent)
    /// One message of an AWS event stream (Bedrock's streams); others have none.
    mutating func message(_ message: EventStreamMessage)
    /// Token counts an answer's head gave (Bedrock's InvokeModel), for when its body gave none.
    mutating func headerCounts(input: Int64?, output: Int64?)
    var usage: CallUsage { get }
}

extension ResponseUsageParser {
    public mutating func message(_ message: EventStreamMessage) {}
    public mutating func headerCounts(input: Int64?, output: Int64?) {}
}

/// The usage parsers, one per API shape (`UsageParser.OpenAI`, `.Anthropic`, `.Gemini`).
public enum UsageParser {
    /// `path` (the upstream path) chooses among a cloud's body shapes (Vertex AI's Claude).
    public static func make(for shape: APIShape, path: String = "") -> any ResponseUsageParser {
        switch shape.bodyShape(path: path) {
        case .openai, .azure: OpenAI()
        case .anthropic: Anthropic()
        case .gemini, .vertex: Gemini()
        case .bedrock: Bedrock()
        case .passthrough: Passthrough()
        }
    }

    /// Records nothing: the API shape is unknown.
    public struct Passthrough: ResponseUsageParser {
        public init() {}
        public mutating func body(_ json: JSONValue) {}
        public mutating func event(_ event: SSEEvent) {}
        public var usage: CallUsage { CallUsage() }
    }
}

extension SSEEvent {
    /// The event's data as JSON, or nil when it is not JSON (e.g. OpenAI's `[DONE]`).
    public var json: JSONValue? {
        guard let first = data.first(where: { $0 != 0x20 }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        return try? JSONParser.parse(data)
    }
}
