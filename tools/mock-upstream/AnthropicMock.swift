import Foundation
import PlumbCore

/// Anthropic messages (`POST /v1/messages`), whole and streamed, in the wire format of the
/// Anthropic Messages API reference, with prompt caching: content up to the last `cache_control`
/// mark is the cached prefix, written the first time the mock sees it and read after that.
struct AnthropicMock {
    let request: [String: JSONValue]
    let c: MockControls
    let serial: Int
    let cache: PromptCache

    var model: String { c.model ?? request["model"]?.stringValue ?? "claude-sonnet-4-5" }

    func messages() -> MockReply {
        let words = MockText.reply(words: c.outputWords, padBytes: c.padBytes)
        let total = MockText.tokens(in: .object(["system": request["system"] ?? .null, "messages": request["messages"] ?? .null]))
        var cacheRead = 0, cacheWrite = 0
        if let prefix = cachedPrefix() {
            if cache.seen(prefix.key) { cacheRead = prefix.tokens } else { cacheWrite = prefix.tokens }
        }
        if c.cachedTokens > 0 { cacheRead = c.cachedTokens }
        if let w = c.cacheWriteTokens { cacheWrite = w }
        let uncached = max(0, total - cacheRead - cacheWrite)
        let output = c.outputWords + (c.padBytes > 0 ? (c.padBytes + 65_535) / 65_536 : 0)
        let tool = request["tools"]?.arrayFirst?["name"]?.stringValue
        let stop = tool != nil ? "tool_use" : "end_turn"
        func usage(_ out: Int) -> JSONValue {
            .object(["input_tokens": .int(Int64(uncached)), "cache_creation_input_tokens": .int(Int64(cacheWrite)),
                     "cache_read_input_tokens": .int(Int64(cacheRead)), "output_tokens": .int(Int64(out)),
                     "service_tier": .string("standard")])
        }
        let id = "msg_mock\(serial)"
        let toolBlock: JSONValue = .object(["type": .string("tool_use"), "id": .string("toolu_mock\(serial)"),
                                            "name": .string(tool ?? ""), "input": .object(["city": .string("Paris")])])
        if !(request["stream"]?.boolValue ?? false) {
            let content: [JSONValue] = tool != nil ? [toolBlock] : [.object(["type": .string("text"), "text": .string(words.joined())])]
            return .json(.object(["id": .string(id), "type": .string("message"), "role": .string("assistant"), "model": .string(model),
                                  "content": .array(content), "stop_reason": .string(stop), "stop_sequence": .null, "usage": usage(output)]))
        }
        var events: [[UInt8]] = []
        func emit(_ type: String, _ fields: [String: JSONValue]) {
            var o = fields; o["type"] = .string(type)
            events.append(MockReply.event(.object(o), name: type))
        }
        emit("message_start", ["message": .object(["id": .string(id), "type": .string("message"), "role": .string("assistant"),
            "model": .string(model), "content": .array([]), "stop_reason": .null, "stop_sequence": .null, "usage": usage(1)])])
        if tool != nil {
            emit("content_block_start", ["index": .int(0), "content_block": .object(["type": .string("tool_use"), "id": .string("toolu_mock\(serial)"),
                                                                                     "name": .string(tool!), "input": .object([:])])])
            for part in [#"{"city""#, #": "Paris"}"#] {
                emit("content_block_delta", ["index": .int(0), "delta": .object(["type": .string("input_json_delta"), "partial_json": .string(part)])])
            }
        } else {
            emit("content_block_start", ["index": .int(0), "content_block": .object(["type": .string("text"), "text": .string("")])])
            emit("ping", [:])
            for w in words {
                emit("content_block_delta", ["index": .int(0), "delta": .object(["type": .string("text_delta"), "text": .string(w)])])
            }
        }
        emit("content_block_stop", ["index": .int(0)])
        emit("message_delta", ["delta": .object(["stop_reason": .string(stop), "stop_sequence": .null]),
                               "usage": .object(["output_tokens": .int(Int64(output))])])
        emit("message_stop", [:])
        return .sse(events)
    }

    /// The tokens up to and including the last block marked `cache_control`, and a key for them.
    func cachedPrefix() -> (key: String, tokens: Int)? {
        var blocks: [JSONValue] = []
        if case .array(let s)? = request["system"] { blocks += s } else if let s = request["system"] { blocks.append(s) }
        if case .array(let msgs)? = request["messages"] {
            for m in msgs {
                if case .array(let content)? = m["content"] { blocks += content } else if let t = m["content"] { blocks.append(t) }
            }
        }
        guard let last = blocks.lastIndex(where: { $0["cache_control"] != nil }) else { return nil }
        let prefix = Array(blocks[...last])
        var w = JSONWriter(); w.value(.array(prefix))
        return (SHA256.hex(w.bytes), MockText.tokens(in: .array(prefix)))
    }
}

/// Prefixes the mock has cached (per mock process, like a provider's cache for one key).
final class PromptCache: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: Set<String> = []
    /// True if seen before; remembers it either way.
    func seen(_ key: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return !keys.insert(key).inserted
    }
}
