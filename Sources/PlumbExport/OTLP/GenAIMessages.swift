// Raw provider bodies → the OpenTelemetry GenAI message attributes `gen_ai.input.messages`,
// `gen_ai.system_instructions` and `gen_ai.output.messages`, as compact JSON strings ("When recorded
// on spans, it MAY be recorded as a JSON string if structured format is not supported").
//
// Sources (the GenAI conventions moved to their own repository in May 2026):
// - open-telemetry/semantic-conventions-genai: model/gen-ai/gen-ai-input-messages.json and
//   model/gen-ai/gen-ai-output-messages.json at 2b902ce14e7fa9d3d97cac49de02bae6917c02ae;
//   model/gen-ai/gen-ai-system-instructions.json at 16c5f010149520768f4fefdfc4273f9bb07e1448;
//   docs/gen-ai/non-normative/models.py at 0724e29c6580306f261c850e4a6f62f194636a83;
//   docs/gen-ai/non-normative/examples-llm-calls.md at 03c9d2138044f18e236f6a831112e64970c13071;
//   docs/gen-ai/anthropic.md (attribute notes) at 002c8a6ea1c8a42b14a4527db83b3cabcded610a.
// - The last copy before the move: open-telemetry/semantic-conventions, docs/gen-ai/gen-ai-*.json and
//   docs/gen-ai/gen-ai-spans.md ("Recording content on attributes") at 953276ff4d0404cdddb515e7418e6a2cf43c2b0b.
// - Gemini roles and finish reasons as the reference instrumentation maps them:
//   open-telemetry/opentelemetry-python-contrib, instrumentation-genai/opentelemetry-instrumentation-google-genai/
//   src/opentelemetry/instrumentation/google_genai/message.py at 0047a9627eee2b7201531c8767f6663e43b85f84.
//
// The convention's shapes: a message is {"role", "parts", "name"?} (+ "finish_reason" on output
// messages: optional and deprecated in favour of `gen_ai.response.finish_reasons` since the move,
// required before it, so it is still written when the provider gave one); system instructions are
// a bare array of parts. Parts: text {content}, reasoning {content}, tool_call {id?, name,
// arguments?}, tool_call_response {id?, response}, server_tool_call {id?, name, server_tool_call},
// server_tool_call_response {id?, server_tool_call_response}, blob {mime_type?, modality, content
// (base64), transcript?}, uri {mime_type?, modality, uri}, file {mime_type?, modality, file_id}, and
// any other {type}. Modality: image, video, audio, document (or a custom string).
//
// Choices made where the convention is silent:
// - Keys are written in the schema's property order (type first), optional keys left out when
//   unknown; provider JSON carried as is (tool arguments, tool results) is written with sorted keys.
// - Chat-history system/developer messages stay in `gen_ai.input.messages` with their role (as in
//   the convention's OpenAI examples); only instructions given apart from the history (Anthropic
//   `system`, Gemini `systemInstruction`, Responses `instructions`) go to `gen_ai.system_instructions`.
// - Roles are the provider's, except Gemini's "model" → "assistant" and "function" → "tool"; a missing
//   role is "user" on input, "assistant" on output. Anthropic tool results stay in "user" messages
//   (the convention: "A tool_call_response part does not imply a tool role").
// - Finish reasons map to the convention's enum where one value fits (tool_calls/tool_use → tool_call,
//   end_turn → stop, MAX_TOKENS → length, SAFETY-like → content_filter, ...), else pass as sent.
// - Tool arguments sent as a JSON string (OpenAI) are parsed; when they are not JSON (truncated,
//   too deep) the string is kept. Inline data (data URLs, base64 fields) becomes a `blob` with the
//   base64 text as is: the schema requires `content`. Modality comes from the part kind (image_url →
//   image) or the MIME type (image/audio/video), else "document".
// - Unknown content blocks become a part with only their provider type; unknown Responses items and
//   Anthropic `redacted_thinking` are left out.
// - Streams are rebuilt: deltas are joined per choice/candidate/content block (empty deltas add no
//   part); Gemini chunks' texts join across chunks, not within one. `stream` is only a hint: a body
//   whose first byte is `{` or `[` is read as JSON (a failed stream is stored as a JSON error), any
//   other body as server-sent events.
// - An attribute is nil when its body is missing, not understood, or yields no message (or no part).
//
// Hostile input: JSONParser bounds nesting at 512 levels (deeper input is a parse error, so nil), every
// walk here is iterative over parsed values or recursion bounded by that depth (JSONWriter.value),
// stream accumulators grow strings in place (no quadratic copies), and indexes from the body are
// dictionary keys, never array positions.

import PlumbCore

/// The GenAI convention's message attributes made from one span's raw bodies.
public struct GenAIMessages: Sendable, Equatable {
    public var input: String?              // JSON text for gen_ai.input.messages
    public var systemInstructions: String? // JSON text for gen_ai.system_instructions
    public var output: String?             // JSON text for gen_ai.output.messages

    public init(input: String? = nil, systemInstructions: String? = nil, output: String? = nil) {
        self.input = input; self.systemInstructions = systemInstructions; self.output = output
    }

    /// `shape` is Plumb's APIShape (see Sources/PlumbCore/Providers/APIShape.swift): .openai, .anthropic, .gemini, .passthrough.
    /// `stream`: the response body is SSE text (or for Gemini possibly a JSON array).
    public static func convert(shape: APIShape, operation: String, requestBody: String?, responseBody: String?,
                               stream: Bool) -> GenAIMessages {
        guard let op = PlumbCore.Operation(rawValue: operation) else { return GenAIMessages() }
        let input: [Message]
        let system: [Part]
        let output: [Message]
        // Vertex AI's Claude (:rawPredict, the messages operation) is Anthropic's shape.
        switch (shape == .vertex && op == .messages ? .anthropic : shape.bodyShape, op) {
        case (.openai, .chat), (.openai, .completion):
            let request = requestBody.flatMap(Body.json)
            input = op == .chat ? OpenAIChat.input(request) : OpenAIChat.completionInput(request)
            system = []
            output = OpenAIChat.output(Body.documents(responseBody))
        case (.openai, .responses):
            let request = requestBody.flatMap(Body.json)
            input = Responses.input(request)
            system = Responses.system(request)
            output = Responses.output(Body.documents(responseBody))
        case (.anthropic, .messages):
            let request = requestBody.flatMap(Body.json)
            input = Anthropic.input(request)
            system = Anthropic.system(request)
            output = Anthropic.output(Body.documents(responseBody))
        case (.gemini, .generate):
            let request = requestBody.flatMap(Body.json)
            input = Gemini.input(request)
            system = Gemini.system(request)
            output = Gemini.output(Body.documents(responseBody))
        default:
            // Embeddings, other operations, passthrough providers: no messages.
            return GenAIMessages()
        }
        return GenAIMessages(input: Writer.messages(input), systemInstructions: Writer.parts(system),
                             output: Writer.messages(output))
    }
}

// MARK: - The convention's message model

extension GenAIMessages {
    /// One message part in the convention's form.
    enum Part: Equatable {
        case text(String)
        case reasoning(String)
        case toolCall(id: String?, name: String, arguments: JSONValue?)
        case toolCallResponse(id: String?, response: JSONValue)
        case blob(mimeType: String?, modality: String, content: String, transcript: String?)
        case uri(mimeType: String?, modality: String, uri: String)
        case file(mimeType: String?, modality: String, fileID: String)
        case serverToolCall(id: String?, name: String, call: JSONValue)
        case serverToolCallResponse(id: String?, response: JSONValue)
        case generic(type: String)
    }

    struct Message: Equatable {
        var role: String
        var parts: [Part]
        var name: String? = nil
        var finishReason: String? = nil
    }

    /// Compact JSON, keys in a fixed order.
    enum Writer {
        static func messages(_ list: [Message]) -> String? {
            guard !list.isEmpty else { return nil }
            var w = JSONWriter()
            w.raw("[")
            for (i, m) in list.enumerated() {
                if i > 0 { w.raw(",") }
                w.raw(#"{"role":"#); w.string(m.role)
                w.raw(#","parts":"#); parts(m.parts, &w)
                if let name = m.name { w.raw(#","name":"#); w.string(name) }
                if let f = m.finishReason { w.raw(#","finish_reason":"#); w.string(f) }
                w.raw("}")
            }
            w.raw("]")
            return String(decoding: w.bytes, as: UTF8.self)
        }

        static func parts(_ list: [Part]) -> String? {
            guard !list.isEmpty else { return nil }
            var w = JSONWriter()
            parts(list, &w)
            return String(decoding: w.bytes, as: UTF8.self)
        }

        static func parts(_ list: [Part], _ w: inout JSONWriter) {
            w.raw("[")
            for (i, p) in list.enumerated() {
                if i > 0 { w.raw(",") }
                part(p, &w)
            }
            w.raw("]")
        }

        static func part(_ p: Part, _ w: inout JSONWriter) {
            switch p {
            case .text(let s):
                w.raw(#"{"type":"text","content":"#); w.string(s)
            case .reasoning(let s):
                w.raw(#"{"type":"reasoning","content":"#); w.string(s)
            case .toolCall(let id, let name, let arguments):
                w.raw(#"{"type":"tool_call""#)
                if let id { w.raw(#","id":"#); w.string(id) }
                w.raw(#","name":"#); w.string(name)
                if let arguments { w.raw(#","arguments":"#); w.value(arguments) }
            case .toolCallResponse(let id, let response):
                w.raw(#"{"type":"tool_call_response""#)
                if let id { w.raw(#","id":"#); w.string(id) }
                w.raw(#","response":"#); w.value(response)
            case .blob(let mime, let modality, let content, let transcript):
                w.raw(#"{"type":"blob""#)
                media(mime, modality, &w)
                w.raw(#","content":"#); w.string(content)
                if let transcript { w.raw(#","transcript":"#); w.string(transcript) }
            case .uri(let mime, let modality, let uri):
                w.raw(#"{"type":"uri""#)
                media(mime, modality, &w)
                w.raw(#","uri":"#); w.string(uri)
            case .file(let mime, let modality, let fileID):
                w.raw(#"{"type":"file""#)
                media(mime, modality, &w)
                w.raw(#","file_id":"#); w.string(fileID)
            case .serverToolCall(let id, let name, let call):
                w.raw(#"{"type":"server_tool_call""#)
                if let id { w.raw(#","id":"#); w.string(id) }
                w.raw(#","name":"#); w.string(name)
                w.raw(#","server_tool_call":"#); w.value(call)
            case .serverToolCallResponse(let id, let response):
                w.raw(#"{"type":"server_tool_call_response""#)
                if let id { w.raw(#","id":"#); w.string(id) }
                w.raw(#","server_tool_call_response":"#); w.value(response)
            case .generic(let type):
                w.raw(#"{"type":"#); w.string(type)
            }
            w.raw("}")
        }

        static func media(_ mime: String?, _ modality: String, _ w: inout JSONWriter) {
            if let mime { w.raw(#","mime_type":"#); w.string(mime) }
            w.raw(#","modality":"#); w.string(modality)
        }
    }
}

// MARK: - Reading bodies

extension GenAIMessages {
    enum Body {
        static func json(_ text: String) -> JSONValue? { try? JSONParser.parse(text) }

        /// True when the first byte after whitespace is `{` or `[`.
        static func startsLikeJSON(_ text: String) -> Bool {
            for b in text.utf8 {
                switch b {
                case 0x20, 0x09, 0x0A, 0x0D: continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): return true
                default: return false
                }
            }
            return false
        }

        /// A response body as JSON documents: the body itself (the elements of a top-level array,
        /// as in Gemini's non-SSE stream), or one per server-sent event whose data is JSON.
        static func documents(_ text: String?) -> [JSONValue] {
            guard let text else { return [] }
            if startsLikeJSON(text) {
                guard let v = json(text) else { return [] }
                if case .array(let items) = v { return items }
                return [v]
            }
            var scanner = SSEScanner()
            var copy = text
            var events = copy.withUTF8 { scanner.feed(UnsafeRawBufferPointer($0)) }
            if let last = scanner.finish() { events.append(last) }
            return events.compactMap { $0.json }
        }
    }

    /// Small readers over parsed JSON.
    enum J {
        static func array(_ v: JSONValue?) -> [JSONValue] {
            if case .array(let a)? = v { return a }
            return []
        }

        static func object(_ v: JSONValue?) -> [String: JSONValue]? {
            if case .object(let o)? = v { return o }
            return nil
        }

        static func isObject(_ v: JSONValue?) -> Bool {
            if case .object? = v { return true }
            return false
        }

        /// `v`'s members (or none) with `type` set: a server tool's call or result.
        static func tagged(_ v: JSONValue?, type: String) -> JSONValue {
            var o = object(v) ?? [:]
            o["type"] = .string(type)
            return .object(o)
        }

        /// Tool arguments: a JSON string is parsed, and kept as the string when it is not JSON.
        static func arguments(_ v: JSONValue?) -> JSONValue? {
            guard let v else { return nil }
            switch v {
            case .null: return nil
            case .string(let s):
                if s.isEmpty { return nil }
                return (try? JSONParser.parse(s)) ?? v
            default: return v
            }
        }
    }

    enum Media {
        static func modality(mime: String?) -> String? {
            guard let mime else { return nil }
            let m = mime.lowercased()
            if m.hasPrefix("image/") { return "image" }
            if m.hasPrefix("audio/") { return "audio" }
            if m.hasPrefix("video/") { return "video" }
            return nil
        }

        /// `data:[<mime>][;base64],<data>` split into its MIME type and data.
        static func dataURL(_ s: String) -> (mime: String?, data: String)? {
            guard s.hasPrefix("data:") else { return nil }
            let u = s.utf8
            let start = u.index(u.startIndex, offsetBy: 5)
            guard let comma = u[start...].firstIndex(of: UInt8(ascii: ",")) else { return nil }
            let header = s[start..<comma]
            let mime = header.split(separator: ";", omittingEmptySubsequences: false).first.map { String($0) } ?? ""
            return (mime.isEmpty ? nil : mime, String(s[u.index(after: comma)...]))
        }

        /// A reference by URL: a data URL is inline data (`blob`), any other URL a `uri`.
        static func blobOrURI(_ url: String, modality: String) -> Part {
            if let d = dataURL(url) {
                return .blob(mimeType: d.mime, modality: modality, content: d.data, transcript: nil)
            }
            return .uri(mimeType: nil, modality: modality, uri: url)
        }

        /// Inline data given as a data URL or as bare base64.
        static func inline(_ data: String, modality: String?) -> Part {
            if let d = dataURL(data) {
                return .blob(mimeType: d.mime, modality: modality ?? self.modality(mime: d.mime) ?? "document",
                             content: d.data, transcript: nil)
            }
            return .blob(mimeType: nil, modality: modality ?? "document", content: data, transcript: nil)
        }

        static func audioMime(_ format: String?) -> String? {
            guard let format, !format.isEmpty else { return nil }
            return format == "mp3" ? "audio/mpeg" : "audio/" + format
        }
    }

    /// Provider finish reasons → the convention's `FinishReason` where one value fits.
    enum Finish {
        static func openAI(_ r: String) -> String {
            switch r {
            case "tool_calls", "function_call": return "tool_call"
            default: return r
            }
        }

        static func anthropic(_ r: String) -> String {
            switch r {
            case "end_turn", "stop_sequence": return "stop"
            case "max_tokens", "model_context_window_exceeded": return "length"
            case "tool_use": return "tool_call"
            case "refusal": return "content_filter"
            default: return r
            }
        }

        static func gemini(_ r: String) -> String {
            switch r {
            case "STOP": return "stop"
            case "MAX_TOKENS": return "length"
            case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
                 "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
                return "content_filter"
            case "FINISH_REASON_UNSPECIFIED", "OTHER", "MALFORMED_FUNCTION_CALL": return "error"
            default: return r
            }
        }
    }
}

// MARK: - OpenAI chat completions (and legacy completions)

extension GenAIMessages {
    enum OpenAIChat {
        static func input(_ request: JSONValue?) -> [Message] {
            var out: [Message] = []
            for m in J.array(request?["messages"]) {
                guard case .object = m else { continue }
                let role = m["role"]?.stringValue ?? "user"
                let parts: [Part]
                if role == "tool" || role == "function" {
                    parts = [.toolCallResponse(id: m["tool_call_id"]?.stringValue, response: toolContent(m["content"]))]
                } else {
                    parts = messageParts(m)
                }
                out.append(Message(role: role, parts: parts, name: m["name"]?.stringValue))
            }
            return out
        }

        static func completionInput(_ request: JSONValue?) -> [Message] {
            switch request?["prompt"] {
            case .string(let s)?:
                return [Message(role: "user", parts: [.text(s)])]
            case .array(let items)?:
                return items.compactMap { item in item.stringValue.map { s in Message(role: "user", parts: [.text(s)]) } }
            default:
                return []
            }
        }

        /// The parts of a whole message (request history, or a non-streamed choice).
        static func messageParts(_ m: JSONValue) -> [Part] {
            var parts: [Part] = []
            // OpenAI-compatible reasoning providers (DeepSeek `reasoning_content`, OpenRouter/Groq `reasoning`).
            if let r = m["reasoning_content"]?.stringValue ?? m["reasoning"]?.stringValue, !r.isEmpty {
                parts.append(.reasoning(r))
            }
            switch m["content"] {
            case .string(let s)?: parts.append(.text(s))
            case .array(let items)?: parts += items.compactMap(contentPart)
            default: break
            }
            if let r = m["refusal"]?.stringValue { parts.append(.text(r)) }
            for c in J.array(m["tool_calls"]) {
                if let p = toolCall(c) { parts.append(p) }
            }
            if let f = m["function_call"], case .object = f {
                parts.append(.toolCall(id: nil, name: f["name"]?.stringValue ?? "", arguments: J.arguments(f["arguments"])))
            }
            if let a = m["audio"], let data = a["data"]?.stringValue {
                parts.append(.blob(mimeType: nil, modality: "audio", content: data, transcript: a["transcript"]?.stringValue))
            }
            return parts
        }

        static func contentPart(_ p: JSONValue) -> Part? {
            guard let type = p["type"]?.stringValue else { return nil }
            switch type {
            case "text":
                return p["text"]?.stringValue.map(Part.text)
            case "image_url":
                guard let url = p["image_url"]?["url"]?.stringValue ?? p["image_url"]?.stringValue else { return nil }
                return Media.blobOrURI(url, modality: "image")
            case "input_audio":
                guard let a = p["input_audio"], let data = a["data"]?.stringValue else { return nil }
                return .blob(mimeType: Media.audioMime(a["format"]?.stringValue), modality: "audio", content: data, transcript: nil)
            case "file":
                guard let f = p["file"] else { return nil }
                if let data = f["file_data"]?.stringValue { return Media.inline(data, modality: nil) }
                if let id = f["file_id"]?.stringValue { return .file(mimeType: nil, modality: "document", fileID: id) }
                return nil
            case "refusal":
                return p["refusal"]?.stringValue.map(Part.text)
            default:
                return .generic(type: type)
            }
        }

        static func toolCall(_ c: JSONValue) -> Part? {
            let id = c["id"]?.stringValue
            if let f = c["function"], case .object = f {
                return .toolCall(id: id, name: f["name"]?.stringValue ?? "", arguments: J.arguments(f["arguments"]))
            }
            if let f = c["custom"], case .object = f {
                return .toolCall(id: id, name: f["name"]?.stringValue ?? "", arguments: f["input"])
            }
            return nil
        }

        /// A tool message's content: a string, text parts joined, or the content as sent.
        static func toolContent(_ v: JSONValue?) -> JSONValue {
            guard let v else { return .null }
            guard case .array(let items) = v else { return v }
            var text = ""
            for item in items {
                guard let t = item["text"]?.stringValue else { return v }
                text += t
            }
            return .string(text)
        }

        struct ToolAcc {
            var id: String?
            var name = ""
            var arguments = ""

            mutating func add(id: String?, name: String?, arguments: String?) {
                if self.id == nil, let id { self.id = id }
                if self.name.isEmpty, let name { self.name = name }
                if let arguments { self.arguments += arguments }
            }
        }

        /// One choice, from a whole response or rebuilt from stream chunks.
        struct ChoiceAcc {
            var role: String?
            var wholeParts: [Part]?
            var reasoning = ""
            var text = ""
            var refusal = ""
            var tools: [Int64: ToolAcc] = [:]
            var finish: String?

            mutating func add(choice c: JSONValue) {
                if let m = c["message"], case .object = m {
                    if let r = m["role"]?.stringValue { role = r }
                    wholeParts = OpenAIChat.messageParts(m)
                }
                if let d = c["delta"], case .object = d { add(delta: d) }
                if let t = c["text"]?.stringValue { text += t }   // legacy completions
                if let f = c["finish_reason"]?.stringValue { finish = f }
            }

            mutating func add(delta d: JSONValue) {
                if let r = d["role"]?.stringValue { role = r }
                if let r = d["reasoning_content"]?.stringValue ?? d["reasoning"]?.stringValue { reasoning += r }
                if let t = d["content"]?.stringValue { text += t }
                if let t = d["refusal"]?.stringValue { refusal += t }
                for (pos, c) in J.array(d["tool_calls"]).enumerated() {
                    guard case .object = c else { continue }
                    let key = c["index"]?.intValue ?? Int64(pos)
                    let f = c["function"] ?? c["custom"]
                    tools[key, default: ToolAcc()].add(id: c["id"]?.stringValue, name: f?["name"]?.stringValue,
                                                       arguments: f?["arguments"]?.stringValue ?? f?["input"]?.stringValue)
                }
                if let f = d["function_call"], case .object = f {
                    tools[-1, default: ToolAcc()].add(id: nil, name: f["name"]?.stringValue, arguments: f["arguments"]?.stringValue)
                }
            }

            func message() -> Message {
                var parts: [Part]
                if let wholeParts {
                    parts = wholeParts
                } else {
                    parts = []
                    if !reasoning.isEmpty { parts.append(.reasoning(reasoning)) }
                    if !text.isEmpty { parts.append(.text(text)) }
                    if !refusal.isEmpty { parts.append(.text(refusal)) }
                    for (_, t) in tools.sorted(by: { $0.key < $1.key }) {
                        parts.append(.toolCall(id: t.id, name: t.name, arguments: J.arguments(.string(t.arguments))))
                    }
                }
                return Message(role: role ?? "assistant", parts: parts, finishReason: finish.map(Finish.openAI))
            }
        }

        /// Choices of a whole response, or rebuilt from `chat.completion.chunk` events, by index.
        static func output(_ documents: [JSONValue]) -> [Message] {
            var choices: [Int64: ChoiceAcc] = [:]
            for doc in documents {
                for (pos, c) in J.array(doc["choices"]).enumerated() {
                    guard case .object = c else { continue }
                    let key = c["index"]?.intValue ?? Int64(pos)
                    choices[key, default: ChoiceAcc()].add(choice: c)
                }
            }
            return choices.sorted(by: { $0.key < $1.key }).map { $0.value.message() }
        }
    }
}

// MARK: - OpenAI Responses

extension GenAIMessages {
    enum Responses {
        static func system(_ request: JSONValue?) -> [Part] {
            switch request?["instructions"] {
            case .string(let s)?: return [.text(s)]
            case .array(let items)?: return items.flatMap { content($0["content"]) }
            default: return []
            }
        }

        static func input(_ request: JSONValue?) -> [Message] {
            switch request?["input"] {
            case .string(let s)?: return [Message(role: "user", parts: [.text(s)])]
            case .array(let items)?: return items.compactMap(inputItem)
            default: return []
            }
        }

        /// One input item as a message; items other than messages and tool outputs are the
        /// assistant's earlier output (function calls, reasoning, built-in tool calls).
        static func inputItem(_ item: JSONValue) -> Message? {
            guard case .object = item else { return nil }
            let type = item["type"]?.stringValue ?? "message"
            if type == "message" {
                return Message(role: item["role"]?.stringValue ?? "user", parts: content(item["content"]))
            }
            if type.hasSuffix("_call_output") {
                return Message(role: "tool", parts: [.toolCallResponse(id: item["call_id"]?.stringValue,
                                                                       response: item["output"] ?? .null)])
            }
            let parts = itemParts(item, type: type)
            return parts.isEmpty ? nil : Message(role: "assistant", parts: parts)
        }

        static func itemParts(_ item: JSONValue, type: String) -> [Part] {
            switch type {
            case "message":
                return content(item["content"])
            case "function_call":
                return [.toolCall(id: item["call_id"]?.stringValue, name: item["name"]?.stringValue ?? "",
                                  arguments: J.arguments(item["arguments"]))]
            case "custom_tool_call":
                return [.toolCall(id: item["call_id"]?.stringValue, name: item["name"]?.stringValue ?? "",
                                  arguments: item["input"])]
            case "reasoning":
                // The full reasoning text when the model returns it, else its summary.
                let full = J.array(item["content"]).compactMap { $0["text"]?.stringValue }
                let texts = full.isEmpty ? J.array(item["summary"]).compactMap { $0["text"]?.stringValue } : full
                return texts.map(Part.reasoning)
            default:
                // Built-in tools: web_search_call, file_search_call, code_interpreter_call, mcp_call, ...
                guard type.hasSuffix("_call"), type.utf8.count > 5, var call = J.object(item) else { return [] }
                let name = String(type.dropLast(5))
                call["id"] = nil
                call["status"] = nil
                call["type"] = .string(name)
                return [.serverToolCall(id: item["id"]?.stringValue, name: name, call: .object(call))]
            }
        }

        static func content(_ v: JSONValue?) -> [Part] {
            switch v {
            case .string(let s)?: return [.text(s)]
            case .array(let items)?: return items.compactMap(contentPart)
            default: return []
            }
        }

        static func contentPart(_ p: JSONValue) -> Part? {
            guard let type = p["type"]?.stringValue else { return nil }
            switch type {
            case "input_text", "output_text", "text":
                return p["text"]?.stringValue.map(Part.text)
            case "refusal":
                return p["refusal"]?.stringValue.map(Part.text)
            case "reasoning_text", "summary_text":
                return p["text"]?.stringValue.map(Part.reasoning)
            case "input_image":
                if let url = p["image_url"]?.stringValue { return Media.blobOrURI(url, modality: "image") }
                if let id = p["file_id"]?.stringValue { return .file(mimeType: nil, modality: "image", fileID: id) }
                return nil
            case "input_file":
                if let data = p["file_data"]?.stringValue { return Media.inline(data, modality: nil) }
                if let id = p["file_id"]?.stringValue { return .file(mimeType: nil, modality: "document", fileID: id) }
                if let url = p["file_url"]?.stringValue { return .uri(mimeType: nil, modality: "document", uri: url) }
                return nil
            case "input_audio":
                guard let a = p["input_audio"], let data = a["data"]?.stringValue else { return nil }
                return .blob(mimeType: Media.audioMime(a["format"]?.stringValue), modality: "audio", content: data, transcript: nil)
            default:
                return .generic(type: type)
            }
        }

        /// A whole `response` object, or the final one of its event stream (`response.completed`,
        /// `.incomplete`, `.failed`); a stream cut short falls back to its finished output items,
        /// then to its text deltas.
        static func output(_ documents: [JSONValue]) -> [Message] {
            var finalResponse: JSONValue?
            var items: [Int64: JSONValue] = [:]
            var deltas: [Int64: String] = [:]
            for doc in documents {
                let type = doc["type"]?.stringValue ?? ""
                if type.isEmpty {
                    if doc["object"]?.stringValue == "response" || doc["output"] != nil { finalResponse = doc }
                    continue
                }
                switch type {
                case "response.completed", "response.incomplete", "response.failed":
                    if let r = doc["response"], case .object = r { finalResponse = r }
                case "response.output_item.done":
                    if let item = doc["item"], case .object = item {
                        items[doc["output_index"]?.intValue ?? Int64(items.count)] = item
                    }
                case "response.output_text.delta":
                    if let d = doc["delta"]?.stringValue { deltas[doc["output_index"]?.intValue ?? 0, default: ""] += d }
                default:
                    break
                }
            }
            var parts: [Part] = []
            let finalItems = J.array(finalResponse?["output"])
            if !finalItems.isEmpty {
                for item in finalItems { parts += itemParts(item, type: item["type"]?.stringValue ?? "message") }
            } else if !items.isEmpty {
                for (_, item) in items.sorted(by: { $0.key < $1.key }) {
                    parts += itemParts(item, type: item["type"]?.stringValue ?? "message")
                }
            } else {
                for (_, d) in deltas.sorted(by: { $0.key < $1.key }) where !d.isEmpty { parts.append(.text(d)) }
            }
            guard let finalResponse else { return parts.isEmpty ? [] : [Message(role: "assistant", parts: parts)] }
            return [Message(role: "assistant", parts: parts, finishReason: finish(finalResponse, parts))]
        }

        static func finish(_ r: JSONValue, _ parts: [Part]) -> String? {
            guard let status = r["status"]?.stringValue else { return nil }
            switch status {
            case "completed":
                let called = parts.contains { p in
                    if case .toolCall = p { return true }
                    return false
                }
                return called ? "tool_call" : "stop"
            case "incomplete":
                switch r["incomplete_details"]?["reason"]?.stringValue {
                case "max_output_tokens"?: return "length"
                case "content_filter"?: return "content_filter"
                case let other?: return other
                case nil: return status
                }
            case "failed":
                return "error"
            default:
                return status
            }
        }
    }
}

// MARK: - Anthropic messages

extension GenAIMessages {
    enum Anthropic {
        static func system(_ request: JSONValue?) -> [Part] {
            switch request?["system"] {
            case .string(let s)?: return [.text(s)]
            case .array(let blocks)?: return blocks.compactMap(block)
            default: return []
            }
        }

        static func input(_ request: JSONValue?) -> [Message] {
            var out: [Message] = []
            for m in J.array(request?["messages"]) {
                guard case .object = m else { continue }
                out.append(Message(role: m["role"]?.stringValue ?? "user", parts: content(m["content"])))
            }
            return out
        }

        static func content(_ v: JSONValue?) -> [Part] {
            switch v {
            case .string(let s)?: return [.text(s)]
            case .array(let blocks)?: return blocks.compactMap(block)
            default: return []
            }
        }

        static func block(_ b: JSONValue) -> Part? {
            guard let type = b["type"]?.stringValue else { return nil }
            switch type {
            case "text":
                return b["text"]?.stringValue.map(Part.text)
            case "thinking":
                return b["thinking"]?.stringValue.map(Part.reasoning)
            case "redacted_thinking":
                return nil   // encrypted: nothing readable to record
            case "image", "document":
                return source(b["source"], modality: type) ?? Part.generic(type: type)
            case "tool_use":
                return .toolCall(id: b["id"]?.stringValue, name: b["name"]?.stringValue ?? "", arguments: b["input"])
            case "tool_result":
                return .toolCallResponse(id: b["tool_use_id"]?.stringValue, response: b["content"] ?? .null)
            case "server_tool_use", "mcp_tool_use":
                let name = b["name"]?.stringValue ?? ""
                var call = J.object(b["input"]) ?? [:]
                if let input = b["input"], !J.isObject(input) { call["input"] = input }
                call["type"] = .string(name)
                return .serverToolCall(id: b["id"]?.stringValue, name: name, call: .object(call))
            default:
                // web_search_tool_result, code_execution_tool_result, mcp_tool_result, ...
                if type.hasSuffix("_tool_result"), type.utf8.count > 12 {
                    var response: [String: JSONValue] = ["type": .string(String(type.dropLast(12)))]
                    if let c = b["content"] { response["content"] = c }
                    return .serverToolCallResponse(id: b["tool_use_id"]?.stringValue, response: .object(response))
                }
                return .generic(type: type)
            }
        }

        static func source(_ s: JSONValue?, modality: String) -> Part? {
            guard let s, let kind = s["type"]?.stringValue else { return nil }
            switch kind {
            case "base64":
                guard let data = s["data"]?.stringValue else { return nil }
                return .blob(mimeType: s["media_type"]?.stringValue, modality: modality, content: data, transcript: nil)
            case "url":
                guard let url = s["url"]?.stringValue else { return nil }
                return .uri(mimeType: nil, modality: modality, uri: url)
            case "file":
                guard let id = s["file_id"]?.stringValue else { return nil }
                return .file(mimeType: nil, modality: modality, fileID: id)
            case "text":
                return s["data"]?.stringValue.map(Part.text)   // a plain-text document
            default:
                return nil
            }
        }

        /// One content block rebuilt from `content_block_start` and its deltas.
        struct BlockAcc {
            var start: [String: JSONValue] = [:]
            var text = ""
            var json = ""
            var thinking = ""

            func part() -> Part? {
                var b = start
                var type = start["type"]?.stringValue ?? "text"
                if start["type"] == nil {
                    if !json.isEmpty { type = "tool_use" } else if !thinking.isEmpty { type = "thinking" }
                }
                b["type"] = .string(type)
                switch type {
                case "text":
                    b["text"] = .string((start["text"]?.stringValue ?? "") + text)
                case "thinking":
                    b["thinking"] = .string((start["thinking"]?.stringValue ?? "") + thinking)
                default:
                    if !json.isEmpty { b["input"] = (try? JSONParser.parse(json)) ?? JSONValue.string(json) }
                }
                return Anthropic.block(.object(b))
            }
        }

        /// A whole `message`, or one rebuilt from its event stream.
        static func output(_ documents: [JSONValue]) -> [Message] {
            var out: [Message] = []
            var streamed = false
            var role: String?
            var stop: String?
            var blocks: [Int64: BlockAcc] = [:]
            for doc in documents {
                switch doc["type"]?.stringValue {
                case "message"?:
                    guard case .array(let content)? = doc["content"] else { continue }
                    out.append(Message(role: doc["role"]?.stringValue ?? "assistant", parts: content.compactMap(block),
                                       finishReason: doc["stop_reason"]?.stringValue.map(Finish.anthropic)))
                case "message_start"?:
                    streamed = true
                    if let r = doc["message"]?["role"]?.stringValue { role = r }
                    if let s = doc["message"]?["stop_reason"]?.stringValue { stop = s }
                case "content_block_start"?:
                    streamed = true
                    let index = doc["index"]?.intValue ?? Int64(blocks.count)
                    if let o = J.object(doc["content_block"]) { blocks[index, default: BlockAcc()].start = o }
                case "content_block_delta"?:
                    streamed = true
                    guard let d = doc["delta"] else { continue }
                    let index = doc["index"]?.intValue ?? 0
                    switch d["type"]?.stringValue {
                    case "text_delta"?:
                        if let t = d["text"]?.stringValue { blocks[index, default: BlockAcc()].text += t }
                    case "input_json_delta"?:
                        if let t = d["partial_json"]?.stringValue { blocks[index, default: BlockAcc()].json += t }
                    case "thinking_delta"?:
                        if let t = d["thinking"]?.stringValue { blocks[index, default: BlockAcc()].thinking += t }
                    default:
                        break
                    }
                case "message_delta"?:
                    streamed = true
                    if let s = doc["delta"]?["stop_reason"]?.stringValue { stop = s }
                default:
                    break
                }
            }
            if streamed {
                var parts: [Part] = []
                for (_, b) in blocks.sorted(by: { $0.key < $1.key }) {
                    if let p = b.part() { parts.append(p) }
                }
                out.append(Message(role: role ?? "assistant", parts: parts, finishReason: stop.map(Finish.anthropic)))
            }
            return out
        }
    }
}

// MARK: - Gemini generateContent / streamGenerateContent

extension GenAIMessages {
    enum Gemini {
        /// The REST API takes both the JSON names (camelCase) and the proto names (snake_case).
        static func field(_ v: JSONValue, _ camel: String, _ snake: String) -> JSONValue? {
            v[camel] ?? v[snake]
        }

        static func roleName(_ r: String?, output: Bool) -> String {
            guard let r, !r.isEmpty else { return output ? "assistant" : "user" }
            switch r {
            case "model": return "assistant"
            case "function": return "tool"
            default: return r
            }
        }

        static func system(_ request: JSONValue?) -> [Part] {
            guard let request, let s = field(request, "systemInstruction", "system_instruction") else { return [] }
            if let text = s.stringValue { return [.text(text)] }
            return J.array(s["parts"]).compactMap(part)
        }

        static func input(_ request: JSONValue?) -> [Message] {
            var out: [Message] = []
            for c in J.array(request?["contents"]) {
                guard case .object = c else { continue }
                out.append(Message(role: roleName(c["role"]?.stringValue, output: false),
                                   parts: J.array(c["parts"]).compactMap(part)))
            }
            return out
        }

        static func part(_ p: JSONValue) -> Part? {
            guard case .object = p else { return nil }
            if let t = p["text"]?.stringValue {
                return p["thought"]?.boolValue == true ? .reasoning(t) : .text(t)
            }
            if let d = field(p, "inlineData", "inline_data"), let data = d["data"]?.stringValue {
                let mime = field(d, "mimeType", "mime_type")?.stringValue
                return .blob(mimeType: mime, modality: Media.modality(mime: mime) ?? "document", content: data, transcript: nil)
            }
            if let f = field(p, "fileData", "file_data"), let uri = field(f, "fileUri", "file_uri")?.stringValue {
                let mime = field(f, "mimeType", "mime_type")?.stringValue
                return .uri(mimeType: mime, modality: Media.modality(mime: mime) ?? "document", uri: uri)
            }
            if let c = field(p, "functionCall", "function_call") {
                return .toolCall(id: c["id"]?.stringValue, name: c["name"]?.stringValue ?? "", arguments: c["args"])
            }
            if let r = field(p, "functionResponse", "function_response") {
                return .toolCallResponse(id: r["id"]?.stringValue, response: r["response"] ?? .null)
            }
            if let c = field(p, "executableCode", "executable_code") {
                return .serverToolCall(id: nil, name: "code_execution", call: J.tagged(c, type: "code_execution"))
            }
            if let r = field(p, "codeExecutionResult", "code_execution_result") {
                return .serverToolCallResponse(id: nil, response: J.tagged(r, type: "code_execution"))
            }
            return nil   // e.g. a part with only a thought signature
        }

        /// One candidate, from a whole response or rebuilt from stream chunks: a chunk's first text
        /// joins the previous chunk's last text (of the same kind), as the chunks are one text cut up.
        struct CandidateAcc {
            var role: String?
            var parts: [Part] = []
            var finish: String?
            /// 0: none, 1: text, 2: reasoning; its text is kept apart to grow in place.
            var pendingKind = 0
            var pending = ""

            mutating func add(_ p: Part, join: Bool) {
                switch p {
                case .text(let t): addText(t, kind: 1, join: join)
                case .reasoning(let t): addText(t, kind: 2, join: join)
                default:
                    flush()
                    parts.append(p)
                }
            }

            mutating func addText(_ t: String, kind: Int, join: Bool) {
                if join && pendingKind == kind {
                    pending += t
                    return
                }
                flush()
                pendingKind = kind
                pending = t
            }

            mutating func flush() {
                if pendingKind == 1 { parts.append(.text(pending)) }
                if pendingKind == 2 { parts.append(.reasoning(pending)) }
                pendingKind = 0
                pending = ""
            }
        }

        static func output(_ documents: [JSONValue]) -> [Message] {
            var candidates: [Int64: CandidateAcc] = [:]
            for doc in documents {
                for (pos, c) in J.array(doc["candidates"]).enumerated() {
                    guard case .object = c else { continue }
                    let key = c["index"]?.intValue ?? Int64(pos)
                    let seen = candidates.index(forKey: key) != nil
                    let content = c["content"]
                    let parts = J.array(content?["parts"]).compactMap(part)
                    if !seen { candidates[key] = CandidateAcc() }
                    for (i, p) in parts.enumerated() {
                        candidates[key, default: CandidateAcc()].add(p, join: seen && i == 0)
                    }
                    if let r = content?["role"]?.stringValue { candidates[key, default: CandidateAcc()].role = r }
                    if let f = c["finishReason"]?.stringValue ?? c["finish_reason"]?.stringValue {
                        candidates[key, default: CandidateAcc()].finish = f
                    }
                }
            }
            return candidates.sorted(by: { $0.key < $1.key }).map { entry in
                var acc = entry.value
                acc.flush()
                return Message(role: roleName(acc.role, output: true), parts: acc.parts,
                               finishReason: acc.finish.map(Finish.gemini))
            }
        }
    }
}
