import PlumbCore

/// What Plumb reads from a request body before forwarding it: the model asked for, whether the
/// caller wants a stream, and (for OpenAI-shaped streams without usage) the body rewritten to ask
/// the upstream for usage, whose extra chunk Plumb removes again on the way back.
///
/// ```swift
/// let inspection = RequestInspection(shape: .openai, operation: .chat, path: path, body: bytes)
/// inspection.rewrittenBody   // nil (forward the bytes as they came), or the body with stream_options.include_usage = true
/// ```
struct RequestInspection: Sendable {
    var modelRequested: String?
    var stream = false
    /// True when Plumb added `stream_options.include_usage` and must hide the usage chunk.
    var injectedUsage = false
    /// The body to send instead of the caller's (only when usage was asked for).
    var rewrittenBody: [UInt8]?
    /// The most output tokens the request allows (`max_tokens`, `max_completion_tokens`,
    /// `max_output_tokens`, Gemini's `generationConfig.maxOutputTokens`): a budget's estimate.
    var maxTokens: Int64?

    /// Nothing read (a passthrough body, or an inspection that could not run).
    init() {}

    init<Body: Collection<UInt8>>(shape: APIShape, operation: Operation, path: String, query: String? = nil, body: Body) {
        switch shape {
        case .gemini, .vertex:
            // The model is in the path: /v1beta/models/{model}:generateContent
            if let r = path.range(of: "/models/") {
                let tail = path[r.upperBound...]
                modelRequested = String(tail.prefix { $0 != ":" && $0 != "/" })
            }
            // Vertex AI: the same for Gemini, and Claude's :rawPredict / :streamRawPredict.
            stream = path.hasSuffix(":streamGenerateContent") || path.hasSuffix(":streamRawPredict")
            guard !body.isEmpty, let first = body.first(where: { $0 > 0x20 }), first == UInt8(ascii: "{") else { return }
            var picker = Self.geminiPicker
            if body.withContiguousStorageIfAvailable({ picker.feed(UnsafeRawBufferPointer($0)) }) == nil { picker.feed(Array(body)) }
            maxTokens = Self.count(picker.value("generationConfig")?["maxOutputTokens"]) ?? Self.count(picker.value("max_tokens"))
        case .openai, .anthropic, .azure:
            // Azure's dated paths name the deployment (what the caller asked for); its v1 and
            // Foundry paths carry it in the body's `model`, as OpenAI does.
            let deployment = shape == .azure ? Self.azureDeployment(path) : nil
            modelRequested = deployment
            guard !body.isEmpty, let first = body.first(where: { $0 > 0x20 }), first == UInt8(ascii: "{") else { return }
            // Only three top-level members matter; the picker reads them without building the
            // whole document (a request can carry megabytes of messages or images).
            var picker = Self.picker
            if body.withContiguousStorageIfAvailable({ picker.feed(UnsafeRawBufferPointer($0)) }) == nil { picker.feed(Array(body)) }
            modelRequested = deployment ?? picker.value("model")?.stringValue
            stream = picker.value("stream")?.boolValue ?? false
            maxTokens = Self.count(picker.value("max_completion_tokens")) ?? Self.count(picker.value("max_tokens"))
                ?? Self.count(picker.value("max_output_tokens"))
            let options = picker.value("stream_options")
            if shape.bodyShape == .openai, stream, operation == .chat || operation == .completion,
               options?["include_usage"]?.boolValue != true, shape != .azure || Self.azureTakesStreamOptions(path: path, query: query) {
                rewrittenBody = Self.askingForUsage(Array(body), hasOptions: options != nil)
                injectedUsage = true
            }
        case .bedrock:
            // /model/{modelId}/converse: the id is percent-encoded on the wire (`v1%3A0`).
            if let r = path.range(of: "/model/") {
                let id = path[r.upperBound...].prefix { $0 != "/" }
                modelRequested = String(decoding: SigV4.percentDecoded(id.utf8), as: UTF8.self)
            }
            stream = path.hasSuffix("-stream")
            guard !body.isEmpty, let first = body.first(where: { $0 > 0x20 }), first == UInt8(ascii: "{") else { return }
            var picker = Self.bedrockPicker
            if body.withContiguousStorageIfAvailable({ picker.feed(UnsafeRawBufferPointer($0)) }) == nil { picker.feed(Array(body)) }
            maxTokens = Self.count(picker.value("inferenceConfig")?["maxTokens"]) ?? Self.count(picker.value("max_tokens"))
        case .passthrough:
            break
        }
    }

    /// Azure refuses `stream_options` before api-version 2024-09-01-preview (2024-10-21 GA);
    /// its v1 API takes it. Older versions and AI Foundry's `/models/` paths are not asked
    /// (their streams are recorded without usage rather than refused).
    static func azureTakesStreamOptions(path: String, query: String?) -> Bool {
        if path.hasPrefix("/openai/v1/") { return true }
        guard path.hasPrefix("/openai/"), let query else { return false }
        for part in query.split(separator: "&") where part.hasPrefix("api-version=") {
            let version = part.dropFirst("api-version=".count)
            return version.count >= 10 && version.prefix(10) >= "2024-09-01"
        }
        return false
    }

    /// `{deployment}` of an Azure path `…/openai/deployments/{deployment}/…`.
    static func azureDeployment(_ path: String) -> String? {
        guard let r = path.range(of: "/openai/deployments/") else { return nil }
        let name = path[r.upperBound...].prefix { $0 != "/" }
        return name.isEmpty ? nil : String(name)
    }

    private static let picker = JSONMemberPicker(wanted: ["model", "stream", "stream_options", "max_tokens",
                                                          "max_completion_tokens", "max_output_tokens"])
    private static let geminiPicker = JSONMemberPicker(wanted: ["generationConfig", "max_tokens"])
    private static let bedrockPicker = JSONMemberPicker(wanted: ["inferenceConfig", "max_tokens"])

    /// A token count as a request gives it: a whole number from 0, at most 100 million.
    static func count(_ v: JSONValue?) -> Int64? {
        switch v {
        case .int(let n)? where n >= 0 && n <= 100_000_000: n
        case .double(let d)? where d >= 0 && d <= 1e8: Int64(d.rounded(.up))
        default: nil
        }
    }

    /// The body with `"stream_options":{"include_usage":true}`: inserted after the opening brace
    /// when there are no stream options (the caller's bytes otherwise untouched), else re-written.
    static func askingForUsage(_ body: [UInt8], hasOptions: Bool) -> [UInt8] {
        if !hasOptions, let brace = body.firstIndex(of: UInt8(ascii: "{")) {
            var out = [UInt8]()
            out.reserveCapacity(body.count + 40)
            out.append(contentsOf: body[...brace])
            out.append(contentsOf: #""stream_options":{"include_usage":true}"#.utf8)
            // The body has a "stream" member, so the object is not empty: a comma follows.
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: body[(brace + 1)...])
            return out
        }
        // Only the stream_options value is rewritten: the rest of the body (megabytes of
        // messages, perhaps) is copied as it came, never parsed into a tree.
        guard let range = JSONMemberRange.value(of: "stream_options", in: body) else { return body }
        var options: [String: JSONValue] = [:]
        if case .object(let o)? = try? JSONParser.parse(Array(body[range])) { options = o }   // null: replaced
        options["include_usage"] = .bool(true)
        var w = JSONWriter()
        w.value(.object(options))
        var out = [UInt8]()
        out.reserveCapacity(body.count + 24)
        out.append(contentsOf: body[..<range.lowerBound])
        out.append(contentsOf: w.bytes)
        out.append(contentsOf: body[range.upperBound...])
        return out
    }
}
