import PlumbCore

extension OpenAIMock {
    /// The Responses API (`POST /v1/responses`): a `response` object, or its event stream
    /// (`response.created` … `response.completed`, each with a `sequence_number`).
    func responses() -> MockReply {
        let words = MockText.reply(words: c.outputWords, padBytes: c.padBytes)
        let text = words.joined()
        let respID = "resp_mock\(serial)", msgID = "msg_mock\(serial)"
        let usage: JSONValue = .object([
            "input_tokens": .int(Int64(inputTokens)), "input_tokens_details": .object(["cached_tokens": .int(Int64(c.cachedTokens))]),
            "output_tokens": .int(Int64(outputTokens)), "output_tokens_details": .object(["reasoning_tokens": .int(Int64(c.reasoningTokens))]),
            "total_tokens": .int(Int64(inputTokens + outputTokens)),
        ])
        func part(_ t: String) -> JSONValue { .object(["type": .string("output_text"), "text": .string(t), "annotations": .array([])]) }
        func item(_ status: String, _ content: [JSONValue]) -> JSONValue {
            .object(["id": .string(msgID), "type": .string("message"), "status": .string(status), "role": .string("assistant"), "content": .array(content)])
        }
        func response(_ status: String, output: [JSONValue], usage: JSONValue) -> JSONValue {
            .object([
                "id": .string(respID), "object": .string("response"), "created_at": .int(Int64(created)), "status": .string(status),
                "error": .null, "incomplete_details": .null, "instructions": request["instructions"] ?? .null,
                "max_output_tokens": .null, "model": .string(model), "output": .array(output), "parallel_tool_calls": .bool(true),
                "previous_response_id": .null, "reasoning": .object(["effort": .null, "summary": .null]), "store": .bool(true),
                "temperature": .double(1.0), "text": .object(["format": .object(["type": .string("text")])]),
                "tool_choice": .string("auto"), "tools": .array([]), "top_p": .double(1.0), "truncation": .string("disabled"),
                "usage": usage, "user": .null, "metadata": .object([:]),
            ])
        }
        if !stream {
            return .json(response("completed", output: [item("completed", [part(text)])], usage: usage))
        }
        var events: [[UInt8]] = []
        var seq = 0
        func emit(_ type: String, _ fields: [String: JSONValue]) {
            var o = fields
            o["type"] = .string(type)
            o["sequence_number"] = .int(Int64(seq)); seq += 1
            events.append(MockReply.event(.object(o), name: type))
        }
        emit("response.created", ["response": response("in_progress", output: [], usage: .null)])
        emit("response.in_progress", ["response": response("in_progress", output: [], usage: .null)])
        emit("response.output_item.added", ["output_index": .int(0), "item": item("in_progress", [])])
        emit("response.content_part.added", ["item_id": .string(msgID), "output_index": .int(0), "content_index": .int(0), "part": part("")])
        for w in words {
            emit("response.output_text.delta", ["item_id": .string(msgID), "output_index": .int(0), "content_index": .int(0),
                                                "delta": .string(w), "logprobs": .array([])])
        }
        emit("response.output_text.done", ["item_id": .string(msgID), "output_index": .int(0), "content_index": .int(0),
                                           "text": .string(text), "logprobs": .array([])])
        emit("response.content_part.done", ["item_id": .string(msgID), "output_index": .int(0), "content_index": .int(0), "part": part(text)])
        emit("response.output_item.done", ["output_index": .int(0), "item": item("completed", [part(text)])])
        emit("response.completed", ["response": response("completed", output: [item("completed", [part(text)])], usage: usage)])
        return .sse(events)
    }
}
