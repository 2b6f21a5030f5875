import Foundation
import HTTPTypes
import PlumbCore

/// Azure OpenAI and AI Foundry, served under `/azure` (the mock's one port holds every
/// provider; point `azure_endpoint` or a provider's `base_url` at `http://HOST:PORT/azure`).
/// Wire format from Microsoft's references (docs/design/clouds.md §1):
/// - paths: `/openai/deployments/{deployment}/{chat/completions|completions|embeddings}?api-version=`
///   (`stream_options` refused before 2024-09-01-preview, as Azure does),
///   the v1 shape `/openai/v1/…` (no api-version; the deployment in the body's `model`), and
///   Foundry's model inference `/models/{chat/completions|embeddings}?api-version=`;
/// - auth: `api-key: KEY`, or `Authorization: Bearer KEY` (v1), or an Entra token (a JWT:
///   `Bearer eyJ…`; one containing `expired` is refused as expired), else Azure's 401;
/// - the deployment answers as its model (`gpt4o-prod` → `gpt-4o-2024-08-06`); an unknown one
///   is Azure's 404 `DeploymentNotFound`;
/// - content filtering: `prompt_filter_results` and per-choice `content_filter_results` on every
///   answer, a stream's first event the prompt's annotation (empty id and model, no choices);
///   a prompt containing `MOCK_FILTER_PROMPT` is refused (400 `content_filter`), one containing
///   `MOCK_FILTER_COMPLETION` is answered and cut (`finish_reason: content_filter`).
struct AzureMock {
    static let prefix = "/azure"
    static let apiKey = "mock-azure-key"
    /// Deployment name → the model version that answers.
    static let deployments = [
        "gpt4o-prod": "gpt-4o-2024-08-06", "mini": "gpt-4o-mini-2024-07-18", "embed": "text-embedding-3-small",
        "gpt-4o": "gpt-4o-2024-11-20", "gpt-oss-120b": "gpt-oss-120b",
    ]

    let path: String
    let query: String
    let headers: HTTPFields
    let request: [String: JSONValue]
    let c: MockControls
    let serial: Int

    func respond() -> MockReply {
        let version = query.split(separator: "&").first { $0.hasPrefix("api-version=") }.map { $0.dropFirst("api-version=".count) } ?? ""
        let apiVersion = !version.isEmpty
        var deployment: String?
        let operation: Substring
        if let r = path.range(of: "/openai/deployments/") {
            let rest = path[r.upperBound...]
            deployment = String(rest.prefix { $0 != "/" })
            operation = rest.drop { $0 != "/" }
            guard apiVersion else { return Self.notFound }
        } else if let r = path.range(of: "/openai/v1/") {
            operation = path[path.index(before: r.upperBound)...]
        } else if path.hasPrefix("/models/") {
            operation = path.dropFirst("/models".count)
            guard apiVersion else { return Self.notFound }
        } else {
            return Self.notFound
        }
        if let refusal = authRefusal() { return refusal }
        // Versions before 2024-09-01-preview do not know stream_options (Azure answers 400).
        if deployment != nil, request["stream_options"] != nil, version.prefix(10) < "2024-09-01" {
            return .json(.object(["error": .object(["code": .null, "message": .string("Unrecognized request argument supplied: stream_options"),
                                                    "param": .null, "type": .string("invalid_request_error")])]), status: .badRequest)
        }
        let name = deployment ?? request["model"]?.stringValue ?? ""
        guard let model = Self.deployments[name] else {
            return Self.error(.notFound, code: "DeploymentNotFound",
                              "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")
        }
        var w = JSONWriter()
        w.value(.object(request))
        let prompt = String(decoding: w.bytes, as: UTF8.self)
        if prompt.contains("MOCK_FILTER_PROMPT") { return Self.promptFiltered }
        var controls = c
        controls.model = model
        let openai = OpenAIMock(request: request, c: controls, serial: serial)
        let reply: MockReply
        switch operation {
        case "/chat/completions": reply = openai.chat()
        case "/completions": reply = openai.completion()
        case "/embeddings": return openai.embeddings()
        default: return Self.notFound
        }
        return annotated(reply, filterCompletion: prompt.contains("MOCK_FILTER_COMPLETION"))
    }

    /// Azure's 401 for a missing or wrong key, or an Entra token that has expired.
    func authRefusal() -> MockReply? {
        let key = headers[HTTPField.Name("api-key")!]
        let bearer = headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        if key == Self.apiKey || bearer == Self.apiKey { return nil }
        if let token = bearer, token.hasPrefix("eyJ") {
            if !token.contains("expired") { return nil }
            return Self.error(.unauthorized, code: "401",
                              "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.")
        }
        return Self.error(.unauthorized, code: "401",
                          "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
    }

    static let safe: JSONValue = .object([
        "hate": .object(["filtered": .bool(false), "severity": .string("safe")]),
        "self_harm": .object(["filtered": .bool(false), "severity": .string("safe")]),
        "sexual": .object(["filtered": .bool(false), "severity": .string("safe")]),
        "violence": .object(["filtered": .bool(false), "severity": .string("safe")]),
    ])
    static let promptResults: JSONValue = .array([.object(["prompt_index": .int(0), "content_filter_results": safe])])

    /// The OpenAI-shaped reply with Azure's content-filter annotations; with `filterCompletion`,
    /// cut by the filter (`finish_reason: content_filter`, the content emptied).
    func annotated(_ reply: MockReply, filterCompletion: Bool) -> MockReply {
        func annotate(_ o: inout [String: JSONValue]) {
            guard case .array(var choices)? = o["choices"] else { return }
            for i in choices.indices {
                guard case .object(var choice) = choices[i] else { continue }
                if filterCompletion, let f = choice["finish_reason"], f != .null {
                    choice["finish_reason"] = .string("content_filter")
                    if case .object(var m)? = choice["message"] { m["content"] = .string(""); choice["message"] = .object(m) }
                }
                if filterCompletion, case .object(var d)? = choice["delta"], d["content"] != nil { d["content"] = .string(""); choice["delta"] = .object(d) }
                choice["content_filter_results"] = Self.safe
                choices[i] = .object(choice)
            }
            o["choices"] = .array(choices)
        }
        guard reply.contentType == "text/event-stream" else {
            guard case .object(var o)? = try? JSONParser.parse(reply.pieces.flatMap { $0 }) else { return reply }
            annotate(&o)
            o["prompt_filter_results"] = Self.promptResults
            return .json(.object(o))
        }
        // The prompt's annotation comes first, on its own (Azure's content-streaming reference).
        // With include_usage every chunk but the usage one has `"usage": null`, this one too.
        var annotation: [String: JSONValue] = ["id": .string(""), "object": .string(""), "created": .int(0), "model": .string(""),
                                               "prompt_filter_results": Self.promptResults, "choices": .array([])]
        if request["stream_options"]?["include_usage"]?.boolValue == true { annotation["usage"] = .null }
        var events = [MockReply.event(.object(annotation))]
        for piece in reply.pieces {
            let text = String(decoding: piece, as: UTF8.self)
            guard text.hasPrefix("data: {"), case .object(var o)? = try? JSONParser.parse(Array(text.dropFirst(6).utf8)) else {
                events.append(piece)
                continue
            }
            annotate(&o)
            events.append(MockReply.event(.object(o)))
        }
        return .sse(events)
    }

    static func error(_ status: HTTPResponse.Status, code: String, _ message: String) -> MockReply {
        .json(.object(["error": .object(["code": .string(code), "message": .string(message)])]), status: status)
    }

    static let notFound = error(.notFound, code: "404", "Resource not found")

    /// A prompt refused by the content filter: HTTP 400 (content-filter reference).
    static let promptFiltered = MockReply.json(.object(["error": .object([
        "message": .string("The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry."),
        "type": .null, "param": .string("prompt"), "code": .string("content_filter"), "status": .int(400),
        "innererror": .object(["code": .string("ResponsibleAIPolicyViolation"), "content_filter_result": .object([
            "hate": .object(["filtered": .bool(true), "severity": .string("high")]),
            "self_harm": .object(["filtered": .bool(false), "severity": .string("safe")]),
            "sexual": .object(["filtered": .bool(false), "severity": .string("safe")]),
            "violence": .object(["filtered": .bool(false), "severity": .string("safe")]),
        ])]),
    ])]), status: .badRequest)
}
