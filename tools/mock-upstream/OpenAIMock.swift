import Foundation
import PlumbCore

/// OpenAI chat completions, completions, embeddings and Responses, whole and streamed, in the
/// wire format of the OpenAI API reference (objects `chat.completion`, `chat.completion.chunk`,
/// `text_completion`, `list` of `embedding`, `response` and its `response.*` stream events).
struct OpenAIMock {
    let request: [String: JSONValue]
    let c: MockControls
    let serial: Int
    let created = 1_763_800_000

    var model: String { c.model ?? request["model"]?.stringValue ?? "gpt-4o-mini" }
    var stream: Bool { request["stream"]?.boolValue ?? false }
    var includeUsage: Bool { request["stream_options"]?["include_usage"]?.boolValue ?? false }
    var inputTokens: Int { MockText.tokens(in: .object(request)) }
    var outputTokens: Int { c.outputWords + c.reasoningTokens + (c.padBytes > 0 ? (c.padBytes + 65_535) / 65_536 : 0) }
    var toolName: String? { request["tools"]?.arrayFirst?["function"]?["name"]?.stringValue ?? request["tools"]?.arrayFirst?["name"]?.stringValue }

    func chatUsage() -> JSONValue {
        .object([
            "prompt_tokens": .int(Int64(inputTokens)), "completion_tokens": .int(Int64(outputTokens)),
            "total_tokens": .int(Int64(inputTokens + outputTokens)),
            "prompt_tokens_details": .object(["cached_tokens": .int(Int64(c.cachedTokens)), "audio_tokens": .int(0)]),
            "completion_tokens_details": .object(["reasoning_tokens": .int(Int64(c.reasoningTokens)), "audio_tokens": .int(0),
                                                  "accepted_prediction_tokens": .int(0), "rejected_prediction_tokens": .int(0)]),
        ])
    }

    func chat() -> MockReply {
        let id = "chatcmpl-mock\(serial)"
        let words = MockText.reply(words: c.outputWords, padBytes: c.padBytes)
        let tool = toolName
        func head(_ object: String) -> [String: JSONValue] {
            ["id": .string(id), "object": .string(object), "created": .int(Int64(created)), "model": .string(model),
             "system_fingerprint": .string("fp_mock")]
        }
        let toolCall: JSONValue = .object(["id": .string("call_mock\(serial)"), "type": .string("function"),
            "function": .object(["name": .string(tool ?? ""), "arguments": .string(#"{"city":"Paris"}"#)])])
        if !stream {
            var o = head("chat.completion")
            let message: JSONValue = tool != nil
                ? .object(["role": .string("assistant"), "content": .null, "tool_calls": .array([toolCall]), "refusal": .null])
                : .object(["role": .string("assistant"), "content": .string(words.joined()), "refusal": .null, "annotations": .array([])])
            o["choices"] = .array([.object(["index": .int(0), "message": message, "logprobs": .null,
                                            "finish_reason": .string(tool != nil ? "tool_calls" : "stop")])])
            o["usage"] = chatUsage()
            o["service_tier"] = .string("default")
            return .json(.object(o))
        }
        var events: [[UInt8]] = []
        func chunk(_ delta: JSONValue, finish: String?) {
            var o = head("chat.completion.chunk")
            o["choices"] = .array([.object(["index": .int(0), "delta": delta, "logprobs": .null,
                                            "finish_reason": finish.map { .string($0) } ?? .null])])
            if includeUsage { o["usage"] = .null }
            events.append(MockReply.event(.object(o)))
        }
        chunk(.object(["role": .string("assistant"), "content": .string(""), "refusal": .null]), finish: nil)
        if tool != nil {
            chunk(.object(["tool_calls": .array([.object(["index": .int(0), "id": .string("call_mock\(serial)"), "type": .string("function"),
                "function": .object(["name": .string(tool!), "arguments": .string("")])])])]), finish: nil)
            for part in [#"{"city""#, #":"Paris"}"#] {
                chunk(.object(["tool_calls": .array([.object(["index": .int(0), "function": .object(["arguments": .string(part)])])])]), finish: nil)
            }
        } else {
            for w in words { chunk(.object(["content": .string(w)]), finish: nil) }
        }
        chunk(.object([:]), finish: tool != nil ? "tool_calls" : "stop")
        if includeUsage {
            var o = head("chat.completion.chunk")
            o["choices"] = .array([])
            o["usage"] = chatUsage()
            events.append(MockReply.event(.object(o)))
        }
        events.append(MockReply.event(nil, raw: "[DONE]"))
        return .sse(events)
    }

    func completion() -> MockReply {
        let words = MockText.reply(words: c.outputWords, padBytes: c.padBytes)
        func head() -> [String: JSONValue] {
            ["id": .string("cmpl-mock\(serial)"), "object": .string("text_completion"), "created": .int(Int64(created)),
             "model": .string(model), "system_fingerprint": .string("fp_mock")]
        }
        func choice(_ text: String, _ finish: String?) -> JSONValue {
            .array([.object(["text": .string(text), "index": .int(0), "logprobs": .null, "finish_reason": finish.map { .string($0) } ?? .null])])
        }
        var usage = chatUsage()
        if case .object(var u) = usage { u["prompt_tokens_details"] = nil; u["completion_tokens_details"] = nil; usage = .object(u) }
        if !stream {
            var o = head(); o["choices"] = choice(words.joined(), "stop"); o["usage"] = usage
            return .json(.object(o))
        }
        var events: [[UInt8]] = []
        for (i, w) in words.enumerated() {
            var o = head(); o["choices"] = choice(w, i == words.count - 1 ? "stop" : nil)
            if includeUsage { o["usage"] = .null }
            events.append(MockReply.event(.object(o)))
        }
        if includeUsage { var o = head(); o["choices"] = .array([]); o["usage"] = usage; events.append(MockReply.event(.object(o))) }
        events.append(MockReply.event(nil, raw: "[DONE]"))
        return .sse(events)
    }

    func embeddings() -> MockReply {
        var inputs: [JSONValue] = []
        if case .array(let a)? = request["input"] { inputs = a } else if let i = request["input"] { inputs = [i] }
        let dims = Int(request["dimensions"]?.intValue ?? 8)
        let base64 = request["encoding_format"]?.stringValue == "base64"
        var data: [JSONValue] = []
        for (i, input) in inputs.enumerated() {
            let seed = MockText.tokens(in: input) + i
            let v = (0..<dims).map { Float(($0 * 31 + seed * 17) % 101) / 100 - 0.5 }
            let embedding: JSONValue
            if base64 {
                var bytes: [UInt8] = []
                for f in v { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
                embedding = .string(Data(bytes).base64EncodedString())
            } else {
                embedding = .array(v.map { .double(Double($0)) })
            }
            data.append(.object(["object": .string("embedding"), "index": .int(Int64(i)), "embedding": embedding]))
        }
        let tokens = Int64(MockText.tokens(in: request["input"]))
        return .json(.object(["object": .string("list"), "data": .array(data), "model": .string(model),
                              "usage": .object(["prompt_tokens": .int(tokens), "total_tokens": .int(tokens)])]))
    }
}

extension JSONValue {
    var arrayFirst: JSONValue? { if case .array(let a) = self { return a.first }; return nil }
}
