import PlumbCore

/// Gemini `models/{model}:generateContent` and `:streamGenerateContent` (SSE with `alt=sse`,
/// with CRLF line ends as Google sends them; otherwise a JSON array), per the Gemini API
/// reference (`GenerateContentResponse`, `UsageMetadata`).
struct GeminiMock {
    let request: [String: JSONValue]
    let c: MockControls
    let model: String
    let serial: Int

    func generate(stream: Bool, sse: Bool) -> MockReply {
        let words = MockText.reply(words: c.outputWords, padBytes: c.padBytes)
        let prompt = MockText.tokens(in: .object(["contents": request["contents"] ?? .null, "system": request["systemInstruction"] ?? .null]))
        let output = c.outputWords + (c.padBytes > 0 ? (c.padBytes + 65_535) / 65_536 : 0)
        func usage(_ out: Int) -> JSONValue {
            var u: [String: JSONValue] = ["promptTokenCount": .int(Int64(prompt)), "candidatesTokenCount": .int(Int64(out)),
                                          "totalTokenCount": .int(Int64(prompt + out + c.reasoningTokens)),
                                          "promptTokensDetails": .array([.object(["modality": .string("TEXT"), "tokenCount": .int(Int64(prompt))])])]
            if c.reasoningTokens > 0 { u["thoughtsTokenCount"] = .int(Int64(c.reasoningTokens)) }
            if c.cachedTokens > 0 { u["cachedContentTokenCount"] = .int(Int64(c.cachedTokens)) }
            return .object(u)
        }
        func response(_ text: String, finish: Bool, out: Int) -> JSONValue {
            var cand: [String: JSONValue] = ["content": .object(["parts": .array([.object(["text": .string(text)])]), "role": .string("model")]), "index": .int(0)]
            if finish { cand["finishReason"] = .string("STOP") }
            return .object(["candidates": .array([.object(cand)]), "usageMetadata": usage(out),
                            "modelVersion": .string(c.model ?? model), "responseId": .string("mock-\(serial)")])
        }
        if !stream { return .json(response(words.joined(), finish: true, out: output)) }
        let chunks = words.enumerated().map { i, w in response(w, finish: i == words.count - 1, out: i == words.count - 1 ? output : i + 1) }
        if sse { return .sse(chunks.map { MockReply.event($0, crlf: true) }) }
        // Without alt=sse: one JSON array, sent element by element.
        var pieces: [[UInt8]] = []
        for (i, ch) in chunks.enumerated() {
            var w = JSONWriter(); w.value(ch)
            pieces.append(Array((i == 0 ? "[" : ",\r\n").utf8) + w.bytes + (i == chunks.count - 1 ? Array("]".utf8) : []))
        }
        return MockReply(pieces: pieces)
    }
}
