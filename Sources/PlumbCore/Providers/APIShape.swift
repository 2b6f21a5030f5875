/// The wire format a provider speaks, which decides how Plumb reads usage, model and finish
/// reason from its responses. `passthrough` forwards and records without reading usage.
/// `azure` is Azure OpenAI and AI Foundry: OpenAI's bodies under Azure's paths
/// (`/openai/deployments/{deployment}/…?api-version=`, `/openai/v1/…`, `/models/…`), where the
/// deployment names the model asked for and Azure's prices apply. `bedrock` is AWS Bedrock
/// Runtime (`/model/{modelId}/converse|converse-stream|invoke|invoke-with-response-stream`),
/// which Plumb signs anew with its own AWS credentials (SigV4). `vertex` is Google Vertex AI:
/// Gemini (`…/publishers/google/models/{m}:generateContent|:streamGenerateContent`) and Claude
/// (`…/publishers/anthropic/models/{m}:rawPredict|:streamRawPredict`) under
/// `/v1[beta1]/projects/{project}/locations/{location}/`, with OAuth bearer tokens.
public enum APIShape: String, Sendable, CaseIterable {
    case openai, anthropic, gemini, azure, bedrock, vertex, passthrough

    /// The shape of the request and response bodies: Azure's are OpenAI's; Vertex AI's are
    /// Gemini's, or Anthropic's under `/publishers/anthropic/` (`bodyShape(path:)`).
    public var bodyShape: APIShape {
        switch self {
        case .azure: .openai
        case .vertex: .gemini
        default: self
        }
    }

    /// The body shape of a call to `path` (the upstream path).
    public func bodyShape(path: String) -> APIShape {
        self == .vertex && path.contains("/publishers/anthropic/") ? .anthropic : bodyShape
    }
}

/// What a request asks for, from its method and path (`operation` column of the span schema).
public enum Operation: String, Sendable {
    case chat, completion, embeddings, responses, messages, generate, other

    /// The operation of `method path` under `shape`; `path` is the upstream path without query.
    ///
    /// ```swift
    /// Operation(shape: .openai, method: "POST", path: "/v1/chat/completions")   // .chat
    /// ```
    public init(shape: APIShape, method: String, path: String) {
        guard method == "POST" else { self = .other; return }
        switch shape {
        case .openai, .azure:
            if path.hasSuffix("/chat/completions") { self = .chat }
            else if path.hasSuffix("/completions") { self = .completion }
            else if path.hasSuffix("/embeddings") { self = .embeddings }
            else if path.hasSuffix("/responses") { self = .responses }
            else { self = .other }
        case .anthropic:
            self = path.hasSuffix("/messages") ? .messages : .other
        case .gemini:
            self = path.hasSuffix(":generateContent") || path.hasSuffix(":streamGenerateContent") ? .generate : .other
        case .vertex:
            if path.hasSuffix(":rawPredict") || path.hasSuffix(":streamRawPredict") { self = .messages }
            else if path.hasSuffix(":generateContent") || path.hasSuffix(":streamGenerateContent") { self = .generate }
            else { self = .other }
        case .bedrock:
            // Converse is chat; InvokeModel is whatever the model does (Titan/Cohere embeddings).
            if path.hasSuffix("/converse") || path.hasSuffix("/converse-stream") { self = .chat }
            else if path.hasSuffix("/invoke") || path.hasSuffix("/invoke-with-response-stream") {
                self = path.lowercased().contains("embed") ? .embeddings : .chat
            } else { self = .other }
        case .passthrough:
            self = .other
        }
    }
}
