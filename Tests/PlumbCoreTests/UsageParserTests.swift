import Foundation
import XCTest
@testable import PlumbCore

final class UsageParserTests: XCTestCase {
    func events(_ text: String, chunkSize: Int = 7) -> [SSEEvent] {
        var scanner = SSEScanner()
        var out: [SSEEvent] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count { out += scanner.feed(bytes[i..<min(bytes.count, i + chunkSize)]); i += chunkSize }
        if let last = scanner.finish() { out.append(last) }
        return out
    }

    func testSSEScannerSplitsOnEveryLineEndingAndKeepsRawBytes() {
        let text = "event: a\ndata: 1\ndata: 2\n\n: comment\r\ndata: x\r\n\r\ndata:y\r\rdata: tail"
        for size in [1, 2, 5, 100] {
            let e = events(text, chunkSize: size)
            XCTAssertEqual(e.map(\.name), ["a", nil, nil, nil], "chunk size \(size)")
            XCTAssertEqual(e.map { String(decoding: $0.data, as: UTF8.self) }, ["1\n2", "x", "y", "tail"])
            XCTAssertEqual(e.flatMap(\.raw), Array(text.utf8), "raw bytes are the stream, exactly")
        }
    }

    func testMemberPickerKeepsABoundedStackOnEndlessNesting() {
        var picker = JSONMemberPicker.forUsage()
        picker.feed(Array(#"{"model":"m","x":"#.utf8))
        let open = [UInt8](repeating: UInt8(ascii: "["), count: 1 << 20)
        picker.feed(open)
        XCTAssertEqual(picker.depth, JSONMemberPicker.maxDepth, "levels past the bound are counted, not kept")
        picker.feed([UInt8](repeating: UInt8(ascii: "]"), count: 1 << 20))
        picker.feed(Array(#","usage":{"prompt_tokens":3}}"#.utf8))
        XCTAssertEqual(picker.value("model")?.stringValue, "m")
        XCTAssertEqual(picker.value("usage")?["prompt_tokens"], .int(3), "members after the deep part are still read")
    }

    func testSSEScannerBoundsOversizedEvents() {
        var s = SSEScanner(maxEventBytes: 100)
        let big = Array(("data: " + String(repeating: "x", count: 300)).utf8)
        let first = s.feed(big)
        XCTAssertEqual(first.count, 1)
        XCTAssertTrue(first[0].data.isEmpty, "an oversized event is passed on raw, not parsed")
        let rest = s.feed(Array("yyy\n\ndata: ok\n\n".utf8))
        XCTAssertEqual(rest.map { String(decoding: $0.data, as: UTF8.self) }, ["", "ok"])
        XCTAssertEqual((first + rest).flatMap(\.raw), big + Array("yyy\n\ndata: ok\n\n".utf8))
    }

    func testOpenAIChatStreamUsage() {
        var p = UsageParser.make(for: .openai)
        let stream = """
            data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}

            data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":null}

            data: {"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":30,"prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":12}}}

            data: [DONE]


            """
        for e in events(stream) { p.event(e) }
        XCTAssertEqual(p.usage, CallUsage(model: "gpt-4o-mini-2024-07-18", finishReason: "length", inputTokens: 120,
                                          outputTokens: 30, cacheReadTokens: 100, reasoningTokens: 12))
    }

    func testOpenAIResponsesBodyAndStream() throws {
        let body = try JSONParser.parse(#"{"object":"response","model":"gpt-4.1","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":50,"input_tokens_details":{"cached_tokens":10},"output_tokens":9,"output_tokens_details":{"reasoning_tokens":4}}}"#)
        var p = UsageParser.OpenAI()
        p.body(body)
        XCTAssertEqual(p.usage, CallUsage(model: "gpt-4.1", finishReason: "max_output_tokens", inputTokens: 50, outputTokens: 9, cacheReadTokens: 10, reasoningTokens: 4))
        var s = UsageParser.OpenAI()
        for e in events("event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"object\":\"response\",\"model\":\"gpt-4.1\",\"status\":\"in_progress\",\"usage\":null}}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"object\":\"response\",\"model\":\"gpt-4.1\",\"status\":\"completed\",\"usage\":{\"input_tokens\":5,\"output_tokens\":2}}}\n\n") {
            s.event(e)
        }
        XCTAssertEqual(s.usage, CallUsage(model: "gpt-4.1", finishReason: "completed", inputTokens: 5, outputTokens: 2))
    }

    func testAnthropicStreamAddsCacheToInput() {
        var p = UsageParser.make(for: .anthropic)
        let stream = """
            event: message_start
            data: {"type":"message_start","message":{"model":"claude-sonnet-4-6","usage":{"input_tokens":10,"cache_creation_input_tokens":200,"cache_read_input_tokens":1000,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":42}}


            """
        for e in events(stream) { p.event(e) }
        XCTAssertEqual(p.usage, CallUsage(model: "claude-sonnet-4-6", finishReason: "max_tokens", inputTokens: 1210,
                                          outputTokens: 42, cacheReadTokens: 1000, cacheWriteTokens: 200))
    }

    func testGeminiCountsThoughtsAsOutput() throws {
        var p = UsageParser.Gemini()
        p.body(try JSONParser.parse(#"[{"modelVersion":"gemini-2.5-pro","usageMetadata":{"promptTokenCount":3}},{"candidates":[{"finishReason":"STOP"}],"modelVersion":"gemini-2.5-pro","usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":5,"thoughtsTokenCount":20,"cachedContentTokenCount":8}}]"#))
        XCTAssertEqual(p.usage, CallUsage(model: "gemini-2.5-pro", finishReason: "STOP", inputTokens: 30, outputTokens: 25,
                                          cacheReadTokens: 8, reasoningTokens: 20))
    }

    func testMemberPickerReadsUsageWithoutKeepingTheBody() {
        let filler = String(repeating: "word ", count: 50_000)
        let body = #"{"id":"x","choices":[{"index":0,"message":{"content":"\#(filler) \"quoted\" {not json}"},"finish_reason":"stop"}],"model":"gpt-4o","usage":{"prompt_tokens":7,"completion_tokens":3},"n":12 , "object":"chat.completion"}"#
        for chunk in [1, 13, 4096] {
            var picker = JSONMemberPicker.forUsage()
            let bytes = Array(body.utf8)
            var i = 0
            while i < bytes.count { picker.feed(bytes[i..<min(bytes.count, i + chunk)]); i += chunk }
            XCTAssertEqual(picker.value("model"), .string("gpt-4o"))
            XCTAssertEqual(picker.value("object"), .string("chat.completion"))
            XCTAssertNil(picker.picked["n"])
            var p = UsageParser.OpenAI()
            p.body(picker.document)
            XCTAssertEqual(p.usage, CallUsage(model: "gpt-4o", finishReason: "stop", inputTokens: 7, outputTokens: 3))
        }
    }

    func testMemberPickerKeysWithEscapesAndAcrossChunks() {
        // A long key with an escape, an escaped spelling of a wanted key (not the key), and keys cut
        // by chunk ends: the byte-by-byte path and the in-place match agree.
        let long = String(repeating: "k", count: 100_000)
        let body = #"{"\#(long)\"x":1,"mo\u0064el":"escaped","model":"gpt-4o","us\"age":2,"usage":{"prompt_tokens":1}}"#
        for chunk in [1, 7, 4096, body.utf8.count] {
            var picker = JSONMemberPicker(wanted: ["model", "usage"])
            let bytes = Array(body.utf8)
            var i = 0
            while i < bytes.count { picker.feed(bytes[i..<min(bytes.count, i + chunk)]); i += chunk }
            XCTAssertEqual(picker.value("model"), .string("gpt-4o"), "chunk \(chunk)")
            XCTAssertEqual(picker.value("usage"), .object(["prompt_tokens": .int(1)]), "chunk \(chunk)")
            XCTAssertEqual(picker.picked.count, 2)
        }
    }

    /// The picker against the full parser: on random documents (nesting, escapes, numbers,
    /// literals, duplicate members, a root array) fed in random chunks, every wanted member of the
    /// root object (or of the root array's objects, later ones winning) is picked with the value
    /// the parser reads, and nothing else is.
    func testMemberPickerAgreesWithTheParserOnRandomDocuments() throws {
        var rng = SystemRandomNumberGenerator()
        let names = ["model", "usage", "x", "mo", "model\\u0041", "a\\\"b"]
        func scalar() -> String {
            switch Int.random(in: 0..<7, using: &rng) {
            case 0: return "\(Int.random(in: -1_000_000...1_000_000, using: &rng))"
            case 1: return "\(Double.random(in: -1e6...1e6, using: &rng))"
            case 2: return ["true", "false", "null"].randomElement(using: &rng)!
            case 3: return #""quote \" and \\ and \u00e9 and { [ , : ""#
            case 4: return #""""#
            default: return "\"" + String(repeating: "w ", count: Int.random(in: 0..<40, using: &rng)) + "\""
            }
        }
        func value(_ depth: Int) -> String {
            guard depth < 4 else { return scalar() }
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return object(depth + 1)
            case 1: return "[" + (0..<Int.random(in: 0..<4, using: &rng)).map { _ in value(depth + 1) }.joined(separator: " , ") + "]"
            default: return scalar()
            }
        }
        func object(_ depth: Int) -> String {
            let members = (0..<Int.random(in: 0..<6, using: &rng)).map { _ in
                "\"\(names.randomElement(using: &rng)!)\"" + [":", " : ", ":\n"].randomElement(using: &rng)! + value(depth)
            }
            return "{" + members.joined(separator: [",", " ,\t"].randomElement(using: &rng)!) + "}"
        }
        for round in 0..<3000 {
            let rootArray = round % 5 == 4
            let text = rootArray ? "[" + (0..<3).map { _ in object(1) }.joined(separator: ",") + "]" : object(0)
            let bytes = Array(text.utf8)
            let parsed = try JSONParser.parse(bytes)
            var expected: [String: JSONValue] = [:]
            var roots = [parsed]
            if case .array(let items) = parsed { roots = items }
            for case .object(let o) in roots {
                for key in ["model", "usage"] { if let v = o[key] { expected[key] = v } }
            }
            var picker = JSONMemberPicker(wanted: ["model", "usage"])
            var i = 0
            while i < bytes.count {
                let n = Int.random(in: 1...max(1, bytes.count / 3), using: &rng)
                picker.feed(bytes[i..<min(bytes.count, i + n)])
                i += n
            }
            XCTAssertEqual(Set(picker.picked.keys), Set(expected.keys), text)
            for (key, v) in expected { XCTAssertEqual(picker.value(key), v, "\(key) in \(text)") }
        }
    }

    /// A member repeated without end (later ones win) must not pile up its earlier values, and
    /// values more than 64 levels down still have their levels tracked.
    func testMemberPickerRepeatedMembersStayBounded() {
        var picker = JSONMemberPicker(wanted: ["model"], anywhere: ["finish_reason"])
        picker.feed(Array("{".utf8))
        let filler = String(repeating: "x", count: 100)
        for i in 0..<20_000 { picker.feed(Array(#""model":"\#(filler)\#(i)","#.utf8)) }
        let nested = String(repeating: #"{"a":["#, count: 40) + #"{"finish_reason":"stop"}"# + String(repeating: "]}", count: 40)
        picker.feed(Array(#""deep":\#(nested)}"#.utf8))
        XCTAssertEqual(picker.value("model"), .string(filler + "19999"))
        XCTAssertEqual(picker.value("finish_reason"), .string("stop"), "picked 81 levels down")
        XCTAssertLessThan(picker.store.count, 8192, "earlier values are let go")
        XCTAssertEqual(picker.depth, 0)
    }

    func testMemberPickerScalarsArraysAndLimits() {
        var picker = JSONMemberPicker(wanted: ["a", "b", "c", "big"], anywhere: ["deep"])
        picker.maxValueBytes = 10
        picker.feed(Array(#"{"a" : 12 ,"x":{"a":1,"deep":true},"b":null,"big":"0123456789abc","c":[1,{"d":2}]}"#.utf8))
        XCTAssertEqual(picker.value("a"), .int(12), "a nested 'a' is not top level")
        XCTAssertEqual(picker.value("deep"), .bool(true))
        XCTAssertEqual(picker.value("b"), .null)
        XCTAssertNil(picker.picked["big"], "over the value limit: dropped")
        XCTAssertNil(picker.picked["c"], "over the value limit: dropped")
    }

    func testCostFollowsEachProvidersConvention() throws {
        let price = ModelPrice(input: 3e-6, output: 15e-6, cacheRead: 0.3e-6, cacheWrite: 3.75e-6)
        let cost = try XCTUnwrap(price.cost(of: CallUsage(inputTokens: 1210, outputTokens: 42, cacheReadTokens: 1000, cacheWriteTokens: 200)))
        XCTAssertEqual(cost, 10 * 3e-6 + 1000 * 0.3e-6 + 200 * 3.75e-6 + 42 * 15e-6, accuracy: 1e-15)
        XCTAssertNil(price.cost(of: CallUsage(model: "x")), "no tokens: no cost")
        XCTAssertEqual(ModelPrice(input: 1, output: 2).cost(of: CallUsage(inputTokens: 10, outputTokens: 1, cacheReadTokens: 4)), 12,
                       "no cache price: cached tokens bill at the input price")
    }

    func testBuiltInCatalogPricesExactNamesOnly() {
        let c = PriceCatalog.builtIn
        XCTAssertGreaterThan(c.modelCount, 500)
        XCTAssertEqual(c.price(provider: "openai", model: "gpt-4o-mini")?.input, 1.5e-7)
        XCTAssertNotNil(c.price(provider: "openai", model: "gpt-4o-2024-08-06"))
        XCTAssertNil(c.price(provider: "openai", model: "gpt-4o-2099-01-01"))
        XCTAssertNotNil(c.price(provider: "gemini", model: "gemini-2.5-flash"), "the gemini/ prefix is removed")
        XCTAssertNil(c.price(provider: "anthropic", model: "gpt-4o-mini"), "prices are per provider")
    }

    func testPricingOverrides() throws {
        var c = PriceCatalog.builtIn
        try c.override(with: ["local": .object(["llama3": .object(["input": .double(1e-7), "output": .int(0)])])])
        XCTAssertEqual(c.price(provider: "local", model: "llama3"), ModelPrice(input: 1e-7, output: 0))
        XCTAssertThrowsError(try c.override(with: ["local": .object(["m": .object(["input": .double(1)])])])) {
            XCTAssertTrue("\($0)".contains("needs both input and output"))
        }
        XCTAssertThrowsError(try c.override(with: ["local": .object(["m": .object(["input": .int(1), "output": .int(1), "extra": .int(1)])])]))
    }

    /// Azure OpenAI: the catalog's `azure` table, the deployment type's variant before the
    /// standard entry, Foundry's `/models/` paths from `azure_ai`, and config overrides first.
    func testAzurePricesByVariantEndpointAndOverride() throws {
        var c = PriceCatalog.builtIn
        let standard = Provider(name: "azure", baseURL: "https://r.openai.azure.com", shape: .azure)
        var eu = standard; eu.name = "azure-eu"; eu.priceVariant = "eu"
        var global = standard; global.name = "azure-global"; global.priceVariant = "global"
        let chat = "/openai/deployments/prod/chat/completions"
        let model = "gpt-4o-2024-08-06"
        let base = try XCTUnwrap(c.price(PriceKey(provider: standard, endpoint: chat), model: model))
        let zone = try XCTUnwrap(c.price(PriceKey(provider: eu, endpoint: chat), model: model))
        XCTAssertEqual(base.input, 2.5e-6)
        XCTAssertEqual(zone.input, 2.75e-6, "a data-zone deployment is priced from azure/eu/…")
        XCTAssertEqual(c.price(PriceKey(provider: eu, endpoint: chat), model: "text-embedding-3-small")?.input, 2.2e-8,
                       "a model the variant does not list takes the standard price")
        XCTAssertNotNil(c.price(PriceKey(provider: global, endpoint: chat), model: model))
        XCTAssertEqual(c.price(PriceKey(provider: standard, endpoint: "/models/chat/completions"), model: "gpt-oss-120b")?.input, 1.5e-7,
                       "Foundry's model inference is priced from azure_ai")
        XCTAssertNil(c.price(PriceKey(provider: standard, endpoint: chat), model: "prod"), "a deployment name is no model")
        XCTAssertNil(c.price(PriceKey(provider: "azure-eu"), model: model), "no table under the provider's own name")
        try c.override(with: ["azure-eu": .object([model: .object(["input": .double(1e-6), "output": .double(2e-6)])])])
        XCTAssertEqual(c.price(PriceKey(provider: eu, endpoint: chat), model: model), ModelPrice(input: 1e-6, output: 2e-6),
                       "the config's override wins over the catalog's variant")
        let openai = Provider(name: "openai", baseURL: "https://api.openai.com", shape: .openai)
        XCTAssertEqual(c.price(PriceKey(provider: openai, endpoint: "/v1/chat/completions"), model: "gpt-4o-mini"),
                       c.price(provider: "openai", model: "gpt-4o-mini"))
    }

    /// Bedrock: Converse's TokenUsage (cached tokens added to the input), ConverseStream's
    /// metadata and messageStop events, InvokeModel's Claude chunks and invocation metrics.
    func testBedrockUsage() throws {
        var converse = UsageParser.make(for: .bedrock)
        converse.body(try JSONParser.parse(Array(#"{"output":{},"stopReason":"end_turn","usage":{"inputTokens":10,"outputTokens":4,"totalTokens":19,"cacheReadInputTokens":3,"cacheWriteInputTokens":2}}"#.utf8)))
        XCTAssertEqual(converse.usage, CallUsage(finishReason: "end_turn", inputTokens: 15, outputTokens: 4, cacheReadTokens: 3, cacheWriteTokens: 2))
        var stream = UsageParser.make(for: .bedrock)
        func message(_ type: String, _ json: String, messageType: String = "event") -> EventStreamMessage {
            EventStreamMessage(headers: [messageType == "exception" ? ":exception-type" : ":event-type": type, ":message-type": messageType],
                               payload: Array(json.utf8))
        }
        stream.message(message("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"hi"},"p":"abc"}"#))
        stream.message(message("messageStop", #"{"stopReason":"max_tokens"}"#))
        stream.message(message("metadata", #"{"usage":{"inputTokens":7,"outputTokens":12,"totalTokens":19},"metrics":{"latencyMs":5}}"#))
        stream.message(message("throttlingException", #"{"usage":{"inputTokens":99}}"#, messageType: "exception"))
        XCTAssertEqual(stream.usage, CallUsage(finishReason: "max_tokens", inputTokens: 7, outputTokens: 12, errorCode: "throttlingException"),
                       "an exception frame is noted, and its payload is not usage")
        var guarded = UsageParser.make(for: .bedrock)
        guarded.message(message("messageStop", #"{"stopReason":"guardrail_intervened"}"#))
        XCTAssertTrue(guarded.usage.contentFiltered)
        func chunk(_ inner: String) -> EventStreamMessage {
            message("chunk", #"{"bytes":""# + Data(inner.utf8).base64EncodedString() + #"","p":"xy"}"#)
        }
        var invoke = UsageParser.make(for: .bedrock)
        invoke.message(chunk(#"{"type":"message_start","message":{"model":"claude","usage":{"input_tokens":5,"cache_read_input_tokens":4,"output_tokens":1}}}"#))
        invoke.message(chunk(#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"#))
        invoke.message(chunk(#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":90,"outputTokenCount":80}}"#))
        XCTAssertEqual(invoke.usage.inputTokens, 9, "the model's own counts (5 + 4 cached) win over Bedrock's metrics")
        XCTAssertEqual(invoke.usage.outputTokens, 9)
        XCTAssertEqual(invoke.usage.cacheReadTokens, 4); XCTAssertEqual(invoke.usage.finishReason, "end_turn")
        var metricsOnly = UsageParser.make(for: .bedrock)
        metricsOnly.message(chunk(#"{"outputText":"hi","amazon-bedrock-invocationMetrics":{"inputTokenCount":6,"outputTokenCount":2,"cacheReadInputTokenCount":1}}"#))
        XCTAssertEqual(metricsOnly.usage.inputTokens, 7, "another family's chunks: Bedrock's metrics, cache included")
        metricsOnly.message(message("chunk", #"{"bytes":"%%%not base64"}"#))
        XCTAssertEqual(metricsOnly.usage.outputTokens, 2, "a chunk that does not decode changes nothing")
        var headers = UsageParser.make(for: .bedrock)
        headers.body(try JSONParser.parse(Array(#"{"embedding":[0.1]}"#.utf8)))
        headers.headerCounts(input: 8, output: nil)
        XCTAssertEqual(headers.usage.inputTokens, 8, "InvokeModel's head counts when the body has none")
        var llama = UsageParser.make(for: .bedrock)
        llama.body(try JSONParser.parse(Array(#"{"generation":"x","prompt_token_count":4,"generation_token_count":2,"stop_reason":"length"}"#.utf8)))
        llama.headerCounts(input: 100, output: 100)
        XCTAssertEqual(llama.usage, CallUsage(finishReason: "length", inputTokens: 4, outputTokens: 2), "the body wins over the head")
    }

    func testAzureContentFilterIsRead() throws {
        var refused = UsageParser.make(for: .azure)
        refused.body(try JSONParser.parse(Array(#"{"error":{"code":"content_filter","status":400,"param":"prompt"}}"#.utf8)))
        XCTAssertTrue(refused.usage.contentFiltered)
        XCTAssertEqual(refused.usage.errorCode, "content_filter")
        var cut = UsageParser.make(for: .azure)
        cut.body(try JSONParser.parse(Array(#"{"model":"gpt-4o-2024-08-06","choices":[{"finish_reason":"content_filter"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#.utf8)))
        XCTAssertTrue(cut.usage.contentFiltered)
        XCTAssertEqual(cut.usage.outputTokens, 1)
        var fine = UsageParser.make(for: .azure)
        fine.body(try JSONParser.parse(Array(#"{"error":{"code":"DeploymentNotFound"}}"#.utf8)))
        XCTAssertFalse(fine.usage.contentFiltered)
        // The annotation event that opens an Azure stream names no model.
        var stream = UsageParser.make(for: .azure)
        stream.event(SSEEvent(data: Array(#"{"id":"","model":"","prompt_filter_results":[],"choices":[]}"#.utf8), raw: []))
        stream.event(SSEEvent(data: Array(#"{"id":"c","model":"gpt-4o-2024-08-06","choices":[{"delta":{}}]}"#.utf8), raw: []))
        XCTAssertEqual(stream.usage.model, "gpt-4o-2024-08-06")
    }

    /// The fast path skips chunks that carry nothing once the model is known; it must never skip
    /// one that carries usage or a finish reason, however the JSON is spaced, and a key inside a
    /// string (escaped) must not count.
    func testChunksWithoutUsageOrFinishReasonAreSkippedAndNoOthers() {
        func may(_ s: String) -> Bool { UsageParser.OpenAI.mayCarryUsage(Array(s.utf8)) }
        XCTAssertFalse(may(#"{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}"#))
        XCTAssertFalse(may(#"{"choices":[{"delta":{"content":"say \"usage\": {1} and \"finish_reason\":\"x\""},"finish_reason" : null}]}"#))
        XCTAssertTrue(may(#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#))
        XCTAssertTrue(may("{\"choices\":[],\"usage\" :\n {\"prompt_tokens\":3}}"))
        XCTAssertTrue(may("{\"choices\":[{\"finish_reason\":\t\"length\"}]}"))
        XCTAssertTrue(may(#"{"type":"response.completed","response":{}}"#))
        XCTAssertTrue(may(#"{"choices":[{"delta":{"tool_calls":[{"type":"function"}]}}]}"#), "tool calls take the full path")
        // Whole streams read as before: usage and finish reason from the last chunks.
        var p = UsageParser.OpenAI()
        let events = [
            #"{"model":"gpt-4o-mini-2024-07-18","choices":[{"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#,
            #"{"model":"gpt-4o-mini-2024-07-18","choices":[{"delta":{"content":"a"},"finish_reason":null}],"usage":null}"#,
            #"{"model":"gpt-4o-mini-2024-07-18","choices":[{"delta":{},"finish_reason":"stop"}],"usage":null}"#,
            #"{"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}}"#,
        ]
        for e in events { p.event(SSEEvent(data: Array(e.utf8), raw: [])) }
        XCTAssertEqual(p.usage.model, "gpt-4o-mini-2024-07-18")
        XCTAssertEqual(p.usage.finishReason, "stop")
        XCTAssertEqual(p.usage.inputTokens, 12)
        XCTAssertEqual(p.usage.outputTokens, 3)
        XCTAssertEqual(p.usage.cacheReadTokens, 4)
    }
}
