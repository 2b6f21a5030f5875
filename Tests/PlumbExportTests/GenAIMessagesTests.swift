import XCTest
@testable import PlumbExport
import PlumbCore

/// Raw provider bodies → `gen_ai.input.messages`, `gen_ai.system_instructions`, `gen_ai.output.messages`
/// (GenAIMessages.swift names the convention's sources). Expected values are exact compact JSON.
final class GenAIMessagesTests: XCTestCase {
    private func convert(_ shape: APIShape, _ operation: String, request: String? = nil, response: String? = nil,
                         stream: Bool = false) -> GenAIMessages {
        GenAIMessages.convert(shape: shape, operation: operation, requestBody: request, responseBody: response, stream: stream)
    }

    /// `data: X` events, as OpenAI and Gemini (`alt=sse`) send them.
    private func sse(_ data: [String], done: Bool = false) -> String {
        data.map { "data: \($0)\n\n" }.joined() + (done ? "data: [DONE]\n\n" : "")
    }

    /// `event: NAME` + `data: X` events, as Anthropic and the Responses API send them.
    private func namedSSE(_ events: [(String, String)]) -> String {
        events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined()
    }

    private static let pairs: [(APIShape, String)] = [
        (.openai, "chat"), (.openai, "completion"), (.openai, "responses"), (.anthropic, "messages"), (.gemini, "generate"),
    ]

    // MARK: OpenAI chat completions

    func testOpenAIChatHistoryWithSystemMessageToolCallsAndToolResults() {
        let request = #"{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Weather in Paris?","name":"ann"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\",\"unit\":\"c\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"rainy, 57°F"},{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"par"},{"type":"text","text":"tial"}]}]}"#
        let response = #"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"It is rainy.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3}}"#
        let m = convert(.openai, "chat", request: request, response: response)
        XCTAssertEqual(m.input, #"[{"role":"system","parts":[{"type":"text","content":"You are terse."}]},{"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}],"name":"ann"},{"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"get_weather","arguments":{"location":"Paris","unit":"c"}}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"rainy, 57°F"}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"call_2","response":"partial"}]}]"#)
        XCTAssertNil(m.systemInstructions, "chat-history system messages stay in the input messages")
        XCTAssertEqual(m.output, #"[{"role":"assistant","parts":[{"type":"text","content":"It is rainy."}],"finish_reason":"stop"}]"#)
    }

    func testOpenAIChatChoicesAreOrderedByIndexWithToolCallFinishReason() {
        let response = #"{"choices":[{"index":1,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"},{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"length"}]}"#
        let m = convert(.openai, "chat", response: response)
        XCTAssertNil(m.input)
        XCTAssertEqual(m.output, #"[{"role":"assistant","parts":[{"type":"text","content":"Hi"}],"finish_reason":"length"},{"role":"assistant","parts":[{"type":"tool_call","id":"call_9","name":"f","arguments":{"a":1}}],"finish_reason":"tool_call"}]"#)
    }

    func testOpenAIChatStreamJoinsDeltasAndToolCallArguments() {
        let body = sse([
            #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"lookup","arguments":""}}]},"finish_reason":null}]}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":"}}]},"finish_reason":null}]}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"x\"}"}}]},"finish_reason":null}]}"#,
            #"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            #"{"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
        ], done: true)
        let m = convert(.openai, "chat", request: #"{"messages":[{"role":"user","content":"hi"}],"stream":true}"#, response: body, stream: true)
        XCTAssertEqual(m.input, #"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#)
        XCTAssertEqual(m.output, #"[{"role":"assistant","parts":[{"type":"text","content":"Hello"},{"type":"tool_call","id":"call_a","name":"lookup","arguments":{"q":"x"}}],"finish_reason":"tool_call"}]"#)
    }

    func testOpenAICompatibleReasoningWholeAndStreamed() {
        let expected = #"[{"role":"assistant","parts":[{"type":"reasoning","content":"Think"},{"type":"text","content":"Ans"}],"finish_reason":"stop"}]"#
        let whole = #"{"choices":[{"index":0,"message":{"role":"assistant","content":"Ans","reasoning_content":"Think"},"finish_reason":"stop"}]}"#
        XCTAssertEqual(convert(.openai, "chat", response: whole).output, expected)
        let body = sse([
            #"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"Th"}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"ink"}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"Ans","reasoning_content":null}}]}"#,
            #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        ], done: true)
        XCTAssertEqual(convert(.openai, "chat", response: body, stream: true).output, expected)
    }

    func testOpenAIMultimodalPartsBecomeBlobURIAndFileParts() {
        let request = #"{"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"high"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},{"type":"file","file":{"file_id":"file-abc"}},{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0="}},{"type":"video_url","video_url":{"url":"x"}}]}]}"#
        XCTAssertEqual(convert(.openai, "chat", request: request).input, #"[{"role":"user","parts":[{"type":"text","content":"What is this?"},{"type":"uri","modality":"image","uri":"https://example.com/cat.png"},{"type":"blob","mime_type":"image/png","modality":"image","content":"iVBORw0KGgo="},{"type":"blob","mime_type":"audio/wav","modality":"audio","content":"UklGRg=="},{"type":"file","modality":"document","file_id":"file-abc"},{"type":"blob","mime_type":"application/pdf","modality":"document","content":"JVBERi0="},{"type":"video_url"}]}]"#)
    }

    func testOpenAILegacyCompletion() {
        let m = convert(.openai, "completion", request: #"{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi"}"#,
                        response: #"{"choices":[{"index":0,"text":" hi","finish_reason":"stop"}]}"#)
        XCTAssertEqual(m.input, #"[{"role":"user","parts":[{"type":"text","content":"Say hi"}]}]"#)
        XCTAssertEqual(m.output, #"[{"role":"assistant","parts":[{"type":"text","content":" hi"}],"finish_reason":"stop"}]"#)
    }

    func testAFailedStreamStoredAsAJSONErrorHasNoOutputButKeepsItsInput() {
        let m = convert(.openai, "chat", request: #"{"messages":[{"role":"user","content":"hi"}],"stream":true}"#,
                        response: #"{"error":{"message":"bad","type":"invalid_request_error"}}"#, stream: true)
        XCTAssertEqual(m.input, #"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#)
        XCTAssertNil(m.output)
    }

    func testTextIsEscapedAsJSON() {
        let request = #"{"messages":[{"role":"user","content":"a\"b\\c\nd\u0001é/"}]}"#
        XCTAssertEqual(convert(.openai, "chat", request: request).input,
                       #"[{"role":"user","parts":[{"type":"text","content":"a\"b\\c\nd\u0001é/"}]}]"#)
    }

    // MARK: OpenAI Responses

    func testResponsesInstructionsInputItemsAndOutput() {
        let request = #"{"model":"gpt-4.1","instructions":"Be brief.","input":[{"role":"developer","content":"Use metric."},{"role":"user","content":[{"type":"input_text","text":"Weather?"},{"type":"input_image","image_url":"https://e.com/a.jpg"}]},{"type":"function_call","call_id":"call_1","name":"weather","arguments":"{\"city\":\"Oslo\"}"},{"type":"function_call_output","call_id":"call_1","output":"{\"temp\":3}"}]}"#
        let response = #"{"id":"resp_1","object":"response","status":"completed","output":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Checked."}]},{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"3 °C in Oslo.","annotations":[]}]}]}"#
        let m = convert(.openai, "responses", request: request, response: response)
        XCTAssertEqual(m.systemInstructions, #"[{"type":"text","content":"Be brief."}]"#)
        XCTAssertEqual(m.input, #"[{"role":"developer","parts":[{"type":"text","content":"Use metric."}]},{"role":"user","parts":[{"type":"text","content":"Weather?"},{"type":"uri","modality":"image","uri":"https://e.com/a.jpg"}]},{"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"weather","arguments":{"city":"Oslo"}}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"{\"temp\":3}"}]}]"#)
        XCTAssertEqual(m.output, #"[{"role":"assistant","parts":[{"type":"reasoning","content":"Checked."},{"type":"text","content":"3 °C in Oslo."}],"finish_reason":"stop"}]"#)
    }

    func testResponsesStreamUsesTheFinalResponseAndACutStreamItsDeltas() {
        let full = namedSSE([
            ("response.created", #"{"type":"response.created","response":{"id":"r","object":"response","status":"in_progress","output":[]}}"#),
            ("response.output_text.delta", #"{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"ignored"}"#),
            ("response.output_item.done", #"{"type":"response.output_item.done","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_2","name":"f","arguments":"{}"}}"#),
            ("response.completed", #"{"type":"response.completed","response":{"id":"r","object":"response","status":"completed","output":[{"type":"function_call","id":"fc_1","call_id":"call_2","name":"f","arguments":"{}"}]}}"#),
        ])
        XCTAssertEqual(convert(.openai, "responses", response: full, stream: true).output,
                       #"[{"role":"assistant","parts":[{"type":"tool_call","id":"call_2","name":"f","arguments":{}}],"finish_reason":"tool_call"}]"#)
        let cut = namedSSE([
            ("response.created", #"{"type":"response.created","response":{"id":"r","object":"response","status":"in_progress","output":[]}}"#),
            ("response.output_text.delta", #"{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"Hel"}"#),
            ("response.output_text.delta", #"{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"lo"}"#),
        ]) + "event: response.output_text.delta\n" + #"data: {"type":"response.output_text.delta","output_index":0,"del"#
        XCTAssertEqual(convert(.openai, "responses", response: cut, stream: true).output,
                       #"[{"role":"assistant","parts":[{"type":"text","content":"Hello"}]}]"#)
    }

    // MARK: Anthropic

    func testAnthropicSystemBlocksThinkingToolUseToolResultsAndMedia() {
        let request = #"{"model":"claude-x","max_tokens":100,"system":[{"type":"text","text":"You are a pirate.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":[{"type":"thinking","thinking":"Need tool.","signature":"sig"},{"type":"redacted_thinking","data":"xx"},{"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Oslo"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"3C"},{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"ok"}],"is_error":true},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}},{"type":"image","source":{"type":"url","url":"https://e.com/i.png"}},{"type":"document","source":{"type":"file","file_id":"file_1"}},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain doc"}}]}]}"#
        let m = convert(.anthropic, "messages", request: request)
        XCTAssertEqual(m.systemInstructions, #"[{"type":"text","content":"You are a pirate."},{"type":"text","content":"Be brief."}]"#)
        XCTAssertEqual(m.input, #"[{"role":"user","parts":[{"type":"text","content":"Weather?"}]},{"role":"assistant","parts":[{"type":"reasoning","content":"Need tool."},{"type":"tool_call","id":"toolu_1","name":"weather","arguments":{"city":"Oslo"}}]},{"role":"user","parts":[{"type":"tool_call_response","id":"toolu_1","response":"3C"},{"type":"tool_call_response","id":"toolu_2","response":[{"text":"ok","type":"text"}]},{"type":"blob","mime_type":"image/jpeg","modality":"image","content":"/9j/4AAQ"},{"type":"uri","modality":"image","uri":"https://e.com/i.png"},{"type":"file","modality":"document","file_id":"file_1"},{"type":"text","content":"plain doc"}]}]"#)
        XCTAssertNil(m.output)
    }

    func testAnthropicStringSystemPrompt() {
        let m = convert(.anthropic, "messages", request: #"{"system":"Be nice.","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(m.systemInstructions, #"[{"type":"text","content":"Be nice."}]"#)
        XCTAssertEqual(m.input, #"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#)
    }

    func testAnthropicWholeResponse() {
        let response = #"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"thinking","thinking":"Hmm.","signature":"s"},{"type":"text","text":"Ahoy."},{"type":"tool_use","id":"toolu_9","name":"lookup","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}"#
        XCTAssertEqual(convert(.anthropic, "messages", response: response).output,
                       #"[{"role":"assistant","parts":[{"type":"reasoning","content":"Hmm."},{"type":"text","content":"Ahoy."},{"type":"tool_call","id":"toolu_9","name":"lookup","arguments":{}}],"finish_reason":"tool_call"}]"#)
        let ended = #"{"type":"message","role":"assistant","content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn"}"#
        XCTAssertEqual(convert(.anthropic, "messages", response: ended).output,
                       #"[{"role":"assistant","parts":[{"type":"text","content":"Done."}],"finish_reason":"stop"}]"#)
    }

    func testAnthropicServerToolBlocks() {
        let response = #"{"type":"message","role":"assistant","content":[{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"otel"}},{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://o.io","title":"O"}]}],"stop_reason":"end_turn"}"#
        XCTAssertEqual(convert(.anthropic, "messages", response: response).output,
                       #"[{"role":"assistant","parts":[{"type":"server_tool_call","id":"srvtoolu_1","name":"web_search","server_tool_call":{"query":"otel","type":"web_search"}},{"type":"server_tool_call_response","id":"srvtoolu_1","server_tool_call_response":{"content":[{"title":"O","type":"web_search_result","url":"https://o.io"}],"type":"web_search"}}],"finish_reason":"stop"}]"#)
    }

    private let anthropicStream: [(String, String)] = [
        ("message_start", #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}}"#),
        ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think."}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}"#),
        ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
        ("ping", #"{"type": "ping"}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello"}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" there"}}"#),
        ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        ("content_block_start", #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Par"}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"is\"}"}}"#),
        ("content_block_stop", #"{"type":"content_block_stop","index":2}"#),
        ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":30}}"#),
        ("message_stop", #"{"type":"message_stop"}"#),
    ]

    func testAnthropicStreamRebuildsThinkingTextAndToolInput() {
        XCTAssertEqual(convert(.anthropic, "messages", response: namedSSE(anthropicStream), stream: true).output,
                       #"[{"role":"assistant","parts":[{"type":"reasoning","content":"Let me think."},{"type":"text","content":"Hello there"},{"type":"tool_call","id":"toolu_1","name":"get_weather","arguments":{"location":"Paris"}}],"finish_reason":"tool_call"}]"#)
    }

    func testAnthropicStreamCutMidToolInputKeepsThePartialArgumentsAsAString() {
        // Everything up to the first half of the tool input, then half an event line.
        let cut = namedSSE(Array(anthropicStream[0..<14])) + "event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":2,"delta":{"type":"input_js"#
        XCTAssertEqual(convert(.anthropic, "messages", response: cut, stream: true).output,
                       #"[{"role":"assistant","parts":[{"type":"reasoning","content":"Let me think."},{"type":"text","content":"Hello there"},{"type":"tool_call","id":"toolu_1","name":"get_weather","arguments":"{\"location\": \"Par"}]}]"#)
    }

    // MARK: Gemini

    func testGeminiRequestWithSystemInstructionMediaAndFunctionCalls() {
        let request = #"{"systemInstruction":{"parts":[{"text":"Answer in French."}]},"contents":[{"role":"user","parts":[{"text":"Describe"},{"inlineData":{"mimeType":"image/png","data":"iVBORw0="}},{"fileData":{"mimeType":"video/mp4","fileUri":"gs://b/v.mp4"}}]},{"role":"model","parts":[{"functionCall":{"name":"lookup","args":{"q":"x"}}}]},{"role":"user","parts":[{"functionResponse":{"name":"lookup","response":{"result":"ok"}}}]}]}"#
        let m = convert(.gemini, "generate", request: request)
        XCTAssertEqual(m.systemInstructions, #"[{"type":"text","content":"Answer in French."}]"#)
        XCTAssertEqual(m.input, #"[{"role":"user","parts":[{"type":"text","content":"Describe"},{"type":"blob","mime_type":"image/png","modality":"image","content":"iVBORw0="},{"type":"uri","mime_type":"video/mp4","modality":"video","uri":"gs://b/v.mp4"}]},{"role":"assistant","parts":[{"type":"tool_call","name":"lookup","arguments":{"q":"x"}}]},{"role":"user","parts":[{"type":"tool_call_response","response":{"result":"ok"}}]}]"#)
    }

    func testGeminiSnakeCaseFieldsAndMissingRole() {
        let request = #"{"system_instruction":{"parts":[{"text":"S"}]},"contents":[{"parts":[{"inline_data":{"mime_type":"application/pdf","data":"JVBE"}}]}]}"#
        let m = convert(.gemini, "generate", request: request)
        XCTAssertEqual(m.systemInstructions, #"[{"type":"text","content":"S"}]"#)
        XCTAssertEqual(m.input, #"[{"role":"user","parts":[{"type":"blob","mime_type":"application/pdf","modality":"document","content":"JVBE"}]}]"#)
    }

    func testGeminiWholeResponseWithThoughtsAndABlockedCandidate() {
        let response = #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Let me think","thought":true},{"text":"Bonjour"},{"text":"!"}]},"finishReason":"STOP","index":0},{"content":{"role":"model","parts":[]},"finishReason":"SAFETY","index":1}],"usageMetadata":{"promptTokenCount":3},"modelVersion":"gemini-2.5-flash"}"#
        XCTAssertEqual(convert(.gemini, "generate", response: response).output,
                       #"[{"role":"assistant","parts":[{"type":"reasoning","content":"Let me think"},{"type":"text","content":"Bonjour"},{"type":"text","content":"!"}],"finish_reason":"stop"},{"role":"assistant","parts":[],"finish_reason":"content_filter"}]"#)
    }

    func testGeminiCodeExecutionParts() {
        let response = #"{"candidates":[{"content":{"role":"model","parts":[{"executableCode":{"language":"PYTHON","code":"print(1)"}},{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"1\n"}}]},"finishReason":"MAX_TOKENS"}]}"#
        XCTAssertEqual(convert(.gemini, "generate", response: response).output,
                       #"[{"role":"assistant","parts":[{"type":"server_tool_call","name":"code_execution","server_tool_call":{"code":"print(1)","language":"PYTHON","type":"code_execution"}},{"type":"server_tool_call_response","server_tool_call_response":{"outcome":"OUTCOME_OK","output":"1\n","type":"code_execution"}}],"finish_reason":"length"}]"#)
    }

    private let geminiChunks = [
        #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Bon"}]},"index":0}]}"#,
        #"{"candidates":[{"content":{"role":"model","parts":[{"text":"jour"}]},"index":0}]}"#,
        #"{"candidates":[{"content":{"role":"model","parts":[{"text":" !"},{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3}}"#,
    ]
    private let geminiStreamed = #"[{"role":"assistant","parts":[{"type":"text","content":"Bonjour !"},{"type":"tool_call","name":"f","arguments":{}}],"finish_reason":"stop"}]"#

    func testGeminiSSEStreamJoinsTextAcrossChunks() {
        XCTAssertEqual(convert(.gemini, "generate", response: sse(geminiChunks), stream: true).output, geminiStreamed)
    }

    func testGeminiJSONArrayStreamJoinsTextAcrossChunks() {
        let body = "[" + geminiChunks.joined(separator: ",\r\n") + "]"
        XCTAssertEqual(convert(.gemini, "generate", response: body, stream: true).output, geminiStreamed)
    }

    // MARK: Nothing to convert

    func testEmbeddingsOtherOperationsPassthroughAndMismatchedShapesProduceNothing() {
        let chat = #"{"messages":[{"role":"user","content":"hi"}],"input":"hi","contents":[{"parts":[{"text":"hi"}]}]}"#
        let reply = #"{"choices":[{"index":0,"message":{"role":"assistant","content":"x"}}],"data":[{"embedding":[0.1]}]}"#
        XCTAssertFalse(convert(.openai, "chat", request: chat, response: reply) == GenAIMessages(), "the control converts")
        let none: [(APIShape, String)] = [
            (.openai, "embeddings"), (.openai, "other"), (.passthrough, "other"), (.passthrough, "chat"),
            (.anthropic, "chat"), (.gemini, "chat"), (.openai, "messages"), (.openai, "bogus"), (.openai, ""),
        ]
        for (shape, op) in none {
            XCTAssertEqual(convert(shape, op, request: chat, response: reply), GenAIMessages(), "\(shape) \(op)")
        }
    }

    func testMalformedTruncatedAndNonJSONBodiesGiveNil() {
        let bodies = [
            "", "   \n", "not json", "<html>502 Bad Gateway</html>", "{", "[1,2", "{}", "[{}]", "null", "42",
            #"{"messages":"#, #"{"messages":[{"role":"user","content":"hi"}]"#, #"{"messages":[]}"#, #"{"messages":"nope","contents":7}"#,
            "data: {\"choices\":[{\"delta\":{\"content\":\"x\"\n", "data: [DONE]\n\n", "event: ping\n\n",
            String(decoding: [UInt8]([0xC3, 0x28, 0xFF, 0xFE, 0x00, 0x7B]), as: UTF8.self), "\u{0}\u{1}{\"a\":1}",
        ]
        for (shape, op) in Self.pairs {
            for body in bodies {
                XCTAssertEqual(convert(shape, op, request: body, response: body, stream: false), GenAIMessages(), "\(shape) \(op) \(body.debugDescription)")
                XCTAssertEqual(convert(shape, op, request: body, response: body, stream: true), GenAIMessages(), "\(shape) \(op) \(body.debugDescription)")
            }
        }
    }

    func testOddlyTypedMembersAreSkippedNotFatal() {
        let request = #"{"messages":[1,"x",null,{"role":"user","content":{"weird":true}},{"role":"assistant","tool_calls":[7,{"id":"c"},{"function":"no"}]}]}"#
        XCTAssertEqual(convert(.openai, "chat", request: request).input,
                       #"[{"role":"user","parts":[]},{"role":"assistant","parts":[]}]"#)
        let response = #"{"choices":[{"index":"zero","delta":{"content":5,"tool_calls":[{"index":-3,"function":{"name":"f","arguments":"{oops"}}]},"finish_reason":7}]}"#
        XCTAssertEqual(convert(.openai, "chat", response: response).output,
                       #"[{"role":"assistant","parts":[{"type":"tool_call","name":"f","arguments":"{oops"}]}]"#)
    }

    func testThousandDeepNestingIsRefusedWithoutCrashing() {
        let deepArray = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        let deepObject = String(repeating: #"{"a":"#, count: 1000) + "1" + String(repeating: "}", count: 1000)
        for (shape, op) in Self.pairs {
            for deep in [deepArray, deepObject] {
                XCTAssertEqual(convert(shape, op, request: deep, response: deep), GenAIMessages(), "\(shape) \(op)")
                XCTAssertEqual(convert(shape, op, request: deep, response: "data: " + deep + "\n\n", stream: true), GenAIMessages(), "\(shape) \(op)")
            }
        }
        // Inside an otherwise valid body: the tool arguments string is too deep to parse and is kept as text.
        let request = #"{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":""# + deepArray + #""}}]}]}"#
        XCTAssertEqual(convert(.openai, "chat", request: request).input,
                       #"[{"role":"assistant","parts":[{"type":"tool_call","id":"c","name":"f","arguments":""# + deepArray + #""}]}]"#)
    }

    func testDeepButAllowedNestingIsWrittenBack() {
        let deep = String(repeating: "[", count: 400) + String(repeating: "]", count: 400)
        let request = #"{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":"# + deep + "}]}]}"
        XCTAssertEqual(convert(.anthropic, "messages", request: request).input,
                       #"[{"role":"assistant","parts":[{"type":"tool_call","id":"t","name":"f","arguments":"# + deep + "}]}]")
    }

    /// Junk built from JSON and SSE fragments: whatever comes out is a JSON array, and the same twice.
    func testFragmentJunkAlwaysGivesJSONArraysOrNil() throws {
        let fragments = [
            "{", "}", "[", "]", ",", ":", "\"", "data: ", "\n\n", "event: x\n", #""choices""#, #""delta""#, #""content""#,
            #""text""#, #""type""#, #""parts""#, #""candidates""#, #""messages""#, #""role""#, #""index""#, "0", "-1",
            #""tool_calls""#, #""function""#, #""arguments""#, #""x\"y""#, "null", "true", #""content_block_delta""#,
            #""text_delta""#, #""message""#, "\\", "\u{0}", "é",
        ]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: seed >> 33)
        }
        for _ in 0..<400 {
            var body = ""
            for _ in 0..<(next() % 60) { body += fragments[next() % fragments.count] }
            for (shape, op) in Self.pairs {
                let stream = next() % 2 == 0
                let a = convert(shape, op, request: body, response: body, stream: stream)
                XCTAssertEqual(a, convert(shape, op, request: body, response: body, stream: stream))
                for attribute in [a.input, a.systemInstructions, a.output] {
                    guard let attribute else { continue }
                    guard case .array = try JSONParser.parse(attribute) else { return XCTFail("not an array: \(attribute)") }
                }
            }
        }
    }
}
