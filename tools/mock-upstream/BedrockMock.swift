import Foundation
import HTTPTypes
import PlumbCore

/// AWS Bedrock Runtime, served under `/bedrock` (point boto3's `endpoint_url` or a provider's
/// `base_url` at `http://HOST:PORT/bedrock`). Wire format from AWS's references
/// (docs/design/clouds.md §2): `POST /model/{modelId}/converse | converse-stream | invoke |
/// invoke-with-response-stream`, JSON or `application/vnd.amazon.eventstream` frames.
/// Every request must be signed with SigV4 for `us-east-1`/`bedrock` by the mock's key
/// (`AKIDMOCKBEDROCK` / `mock-bedrock-secret`), checked over the request exactly as it arrived,
/// or carry the mock's Bedrock API key as a bearer token; else AWS's 403 with `x-amzn-ErrorType`.
/// Claude models answer InvokeModel in Anthropic's shape (streamed as base64 `chunk` events, the
/// last with `amazon-bedrock-invocationMetrics`); others in Llama's. `X-Mock-Fault:
/// stream-exception` ends a ConverseStream with a `throttlingException` frame.
struct BedrockMock {
    static let prefix = "/bedrock"
    static let credentials = AWSCredentials(accessKeyID: "AKIDMOCKBEDROCK", secretAccessKey: "mock-bedrock-secret")
    static let apiKey = "mock-bedrock-api-key"

    /// The request, with `path` as it arrived (the signature covers it, prefix and all).
    let call: MockRequest

    func respond() -> MockReply {
        if let refusal = authRefusal() { return refusal }
        let path = String(call.path.dropFirst(Self.prefix.count))
        guard path.hasPrefix("/model/") else { return Self.error(404, "UnknownOperationException", nil) }
        let rest = path.dropFirst("/model/".count)
        let modelID = String(decoding: SigV4.percentDecoded(rest.prefix { $0 != "/" }.utf8), as: UTF8.self)
        let operation = rest.drop { $0 != "/" }
        switch operation {
        case "/converse": return converse(modelID, stream: false)
        case "/converse-stream": return converse(modelID, stream: true)
        case "/invoke": return invoke(modelID, stream: false)
        case "/invoke-with-response-stream": return invoke(modelID, stream: true)
        default: return Self.error(404, "UnknownOperationException", nil)
        }
    }

    /// A bearer Bedrock API key, or a SigV4 signature recomputed here over what arrived.
    func authRefusal() -> MockReply? {
        guard let auth = call.headers[.authorization] else {
            return Self.error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        }
        if auth.hasPrefix("Bearer ") {
            return auth.dropFirst(7) == Self.apiKey ? nil : Self.error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
        }
        guard auth.hasPrefix(SigV4.algorithm + " "), let credential = Self.part(auth, "Credential="),
              let signedNames = Self.part(auth, "SignedHeaders="), let signature = Self.part(auth, "Signature="),
              let amzDate = call.headers[HTTPField.Name("X-Amz-Date")!] else {
            return Self.error(403, "IncompleteSignatureException", "Authorization header requires 'Credential', 'Signature', 'SignedHeaders' parameters.")
        }
        let scope = credential.split(separator: "/")
        guard scope.count == 5, scope[0] == Self.credentials.accessKeyID else {
            return Self.error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
        }
        guard scope[2] == "us-east-1", scope[3] == "bedrock", scope[1] == amzDate.prefix(8) else {
            return Self.error(403, "InvalidSignatureException", "Credential should be scoped to a valid region and service.")
        }
        var creds = Self.credentials
        creds.sessionToken = call.headers[HTTPField.Name("X-Amz-Security-Token")!]
        var signed: [(String, String)] = []
        for name in signedNames.split(separator: ";") where name != "x-amz-date" && name != "x-amz-security-token" {
            if name == "host" { signed.append(("host", call.authority ?? "")); continue }
            let field = HTTPField.Name(String(name))!
            for value in call.headers[values: field] { signed.append((String(name), value)) }
        }
        let q = call.query.isEmpty ? nil : call.query
        let expected = SigV4(credentials: creds, region: "us-east-1", service: "bedrock")
            .sign(method: call.method, path: call.path, query: q, headers: signed, payloadHash: SHA256.hex(call.body), amzDate: amzDate)
        guard expected.signature == signature else {
            return Self.error(403, "InvalidSignatureException",
                              "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
        }
        return nil
    }

    static func part(_ auth: String, _ key: String) -> String? {
        guard let r = auth.range(of: key) else { return nil }
        return String(auth[r.upperBound...].prefix { $0 != "," && $0 != " " })
    }

    /// AWS's JSON error (`{"message": …}`) with its type in `x-amzn-ErrorType`.
    static func error(_ status: Int, _ type: String, _ message: String?) -> MockReply {
        var r = MockReply.json(.object(["message": message.map { .string($0) } ?? .null]), status: HTTPResponse.Status(code: status))
        r.extraHeaders = [("x-amzn-ErrorType", type), ("x-amzn-RequestId", "mock-request-id")]
        return r
    }

    var inputTokens: Int { MockText.tokens(in: .object(["system": call.json["system"] ?? .null, "messages": call.json["messages"] ?? .null])) }

    /// Random-length padding, as Bedrock adds to stream payloads (`"p"`).
    func padding(_ i: Int) -> JSONValue { .string(String("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123".prefix(3 + (i * 7 + call.serial) % 40))) }

    func converse(_ model: String, stream: Bool) -> MockReply {
        let words = MockText.reply(words: call.controls.outputWords)
        let cacheRead = call.controls.cachedTokens, cacheWrite = call.controls.cacheWriteTokens ?? 0
        let input = max(0, inputTokens - cacheRead - cacheWrite)
        var usage: [String: JSONValue] = ["inputTokens": .int(Int64(input)), "outputTokens": .int(Int64(call.controls.outputWords)),
                                          "totalTokens": .int(Int64(input + call.controls.outputWords + cacheRead + cacheWrite))]
        if cacheRead > 0 || cacheWrite > 0 {
            usage["cacheReadInputTokens"] = .int(Int64(cacheRead)); usage["cacheWriteInputTokens"] = .int(Int64(cacheWrite))
        }
        let metrics: JSONValue = .object(["latencyMs": .int(321)])
        if !stream {
            var r = MockReply.json(.object([
                "output": .object(["message": .object(["role": .string("assistant"), "content": .array([.object(["text": .string(words.joined())])])])]),
                "stopReason": .string("end_turn"), "usage": .object(usage), "metrics": metrics,
            ]))
            r.extraHeaders = [("x-amzn-RequestId", "mock-request-id")]
            return r
        }
        var frames: [[UInt8]] = []
        func event(_ type: String, _ fields: [String: JSONValue]) {
            var o = fields
            o["p"] = padding(frames.count)
            var w = JSONWriter(); w.value(.object(o))
            frames.append(EventStreamMessage.encode(headers: [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")],
                                                    payload: w.bytes))
        }
        event("messageStart", ["role": .string("assistant")])
        for w in words { event("contentBlockDelta", ["contentBlockIndex": .int(0), "delta": .object(["text": .string(w)])]) }
        event("contentBlockStop", ["contentBlockIndex": .int(0)])
        if call.controls.fault == "stream-exception" {
            // Throttled mid-stream: an exception frame inside the 200, and nothing after it.
            frames.append(EventStreamMessage.encode(headers: [(":exception-type", "throttlingException"), (":content-type", "application/json"),
                                                              (":message-type", "exception")], payload: Array(#"{"message":"Too many requests, please wait before trying again."}"#.utf8)))
            return Self.eventStream(frames)
        }
        event("messageStop", ["stopReason": .string("end_turn")])
        event("metadata", ["usage": .object(usage), "metrics": metrics])
        return Self.eventStream(frames)
    }

    static func eventStream(_ frames: [[UInt8]]) -> MockReply {
        var r = MockReply(contentType: "application/vnd.amazon.eventstream", pieces: frames)
        r.extraHeaders = [("x-amzn-RequestId", "mock-request-id")]
        return r
    }

    func invoke(_ model: String, stream: Bool) -> MockReply {
        guard model.contains("anthropic.") else {
            // Llama's body (prompt in, generation out).
            let prompt = MockText.count(call.json["prompt"]?.stringValue ?? "")
            var r = MockReply.json(.object(["generation": .string(MockText.reply(words: call.controls.outputWords).joined()),
                                            "prompt_token_count": .int(Int64(prompt)), "generation_token_count": .int(Int64(call.controls.outputWords)),
                                            "stop_reason": .string("stop")]))
            r.extraHeaders = [("X-Amzn-Bedrock-Input-Token-Count", "\(prompt)"), ("X-Amzn-Bedrock-Output-Token-Count", "\(call.controls.outputWords)")]
            return r
        }
        var asked = call.json
        asked["stream"] = .bool(stream)
        asked["model"] = .string(model)
        let anthropic = AnthropicMock(request: asked, c: call.controls, serial: call.serial, cache: call.cache).messages()
        guard stream else {
            guard case .object(let o)? = try? JSONParser.parse(anthropic.pieces.flatMap { $0 }), let u = o["usage"] else { return anthropic }
            var r = anthropic
            r.extraHeaders = [("X-Amzn-Bedrock-Input-Token-Count", "\(u["input_tokens"]?.intValue ?? 0)"),
                              ("X-Amzn-Bedrock-Output-Token-Count", "\(u["output_tokens"]?.intValue ?? 0)"),
                              ("X-Amzn-Bedrock-Invocation-Latency", "321")]
            return r
        }
        // Each of Anthropic's events, base64 in a `chunk`; the last with Bedrock's metrics.
        var frames: [[UInt8]] = []
        var input: Int64 = 0, output: Int64 = 0
        for piece in anthropic.pieces {
            guard let line = String(decoding: piece, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("data: ") }),
                  case .object(var o)? = try? JSONParser.parse(Array(line.dropFirst(6).utf8)) else { continue }
            if let u = o["message"]?["usage"] { input = (u["input_tokens"]?.intValue ?? 0) + (u["cache_read_input_tokens"]?.intValue ?? 0) + (u["cache_creation_input_tokens"]?.intValue ?? 0) }
            if let n = o["usage"]?["output_tokens"]?.intValue { output = n }
            if o["type"]?.stringValue == "message_stop" {
                o["amazon-bedrock-invocationMetrics"] = .object(["inputTokenCount": .int(input), "outputTokenCount": .int(output),
                                                                 "invocationLatency": .int(321), "firstByteLatency": .int(45)])
            }
            var w = JSONWriter(); w.value(.object(o))
            var chunk = JSONWriter(); chunk.value(.object(["bytes": .string(Data(w.bytes).base64EncodedString()), "p": padding(frames.count)]))
            frames.append(EventStreamMessage.encode(headers: [(":event-type", "chunk"), (":content-type", "application/json"), (":message-type", "event")],
                                                    payload: chunk.bytes))
        }
        return Self.eventStream(frames)
    }
}
