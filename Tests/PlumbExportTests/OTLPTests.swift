import Foundation
import PlumbCore
import SwiftProtobuf
import XCTest
@testable import PlumbExport

final class OTLPTests: XCTestCase {
    func span() -> Span {
        var s = Span(spanID: "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b", tsStart: 1_700_000_000_123_456, tsEnd: 1_700_000_001_000_000)
        s.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        s.parentSpanID = "00f067aa0ba902b7"
        s.sessionID = "sess-1"; s.userID = "user-9"
        s.latencyMs = 876.544; s.ttftMs = 120.5; s.upstreamMs = 870
        s.provider = "anthropic"; s.modelRequested = "claude-sonnet-4"; s.model = "claude-sonnet-4-20250514"
        s.operation = "messages"; s.endpoint = "/v1/messages?beta=true"; s.method = "POST"; s.stream = true
        s.status = 200; s.finishReason = "end_turn"
        s.inputTokens = 1_200; s.outputTokens = 80; s.cacheReadTokens = 1_000; s.cacheWriteTokens = 0; s.reasoningTokens = nil
        s.costUSD = 0.00123; s.requestBytes = 2_000; s.responseBytes = 5_000; s.apiKeyHash = "3fa0c1d29b7e4a55"
        s.properties = ["team": "search", "env": "prod"]
        return s
    }

    let anthropic = OTLPSpan.ProviderInfo(Provider(name: "anthropic", baseURL: "https://api.anthropic.com", shape: .anthropic))

    func testAttributesFollowTheGenAIMapping() {
        let o = OTLPSpan(span(), provider: anthropic, bodies: false)
        XCTAssertEqual(o.name, "chat claude-sonnet-4")
        XCTAssertEqual(Hex.encode(o.traceID), "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(Hex.encode(o.parentSpanID), "00f067aa0ba902b7")
        XCTAssertEqual(Hex.encode(o.spanID), "8a9b0c1d2e3f4a5b", "the random low 64 bits of the UUIDv7")
        XCTAssertEqual(o.startNanos, 1_700_000_000_123_456_000)
        XCTAssertFalse(o.isError)
        let expected: [(String, OTLPSpan.Value)] = [
            ("gen_ai.operation.name", .string("chat")), ("gen_ai.provider.name", .string("anthropic")),
            ("gen_ai.request.model", .string("claude-sonnet-4")), ("gen_ai.response.model", .string("claude-sonnet-4-20250514")),
            ("gen_ai.request.stream", .bool(true)), ("gen_ai.response.finish_reasons", .strings(["end_turn"])),
            ("gen_ai.usage.input_tokens", .int(1_200)), ("gen_ai.usage.output_tokens", .int(80)),
            ("gen_ai.usage.cache_read.input_tokens", .int(1_000)), ("gen_ai.usage.cache_creation.input_tokens", .int(0)),
            ("gen_ai.response.time_to_first_chunk", .double(0.1205)),
            ("gen_ai.conversation.id", .string("sess-1")), ("session.id", .string("sess-1")), ("user.id", .string("user-9")),
            ("http.request.method", .string("POST")), ("http.response.status_code", .int(200)),
            ("url.path", .string("/v1/messages")), ("server.address", .string("api.anthropic.com")), ("server.port", .int(443)),
            ("http.request.body.size", .int(2_000)), ("http.response.body.size", .int(5_000)),
            ("plumb.span_id", .string("0190a1b2c3d47e5f8a9b0c1d2e3f4a5b")), ("plumb.upstream_ms", .double(870)),
            ("plumb.cost_usd", .double(0.00123)), ("plumb.api_key_hash", .string("3fa0c1d29b7e4a55")),
            ("plumb.property.env", .string("prod")), ("plumb.property.team", .string("search")),
        ]
        XCTAssertEqual(o.attributes.map(\.key), expected.map(\.0))
        XCTAssertEqual(o.attributes.map(\.value), expected.map(\.1))
    }

    /// Azure spans carry the convention's name for the API that answered, whatever the provider
    /// is called, and their OpenAI-shaped bodies become messages.
    func testAzureProviderNames() {
        var s = span()
        s.provider = "azure-eu"; s.operation = "chat"; s.endpoint = "/openai/deployments/prod/chat/completions"
        let info = OTLPSpan.ProviderInfo(shape: .azure, serverAddress: "r.openai.azure.com", serverPort: 443)
        XCTAssertEqual(OTLPSpan(s, provider: info, bodies: false).attribute("gen_ai.provider.name"), .string("azure.ai.openai"))
        s.endpoint = "/models/chat/completions"
        XCTAssertEqual(OTLPSpan(s, provider: info, bodies: false).attribute("gen_ai.provider.name"), .string("azure.ai.inference"))
        XCTAssertEqual(OTLPSpan(s, provider: nil, bodies: false).attribute("gen_ai.provider.name"), .string("azure-eu"))
        let m = GenAIMessages.convert(shape: .azure, operation: "chat", requestBody: #"{"messages":[{"role":"user","content":"hi"}]}"#,
                                      responseBody: #"{"choices":[{"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}]}"#, stream: false)
        XCTAssertNotNil(m.input); XCTAssertNotNil(m.output)
    }

    func testFailuresAndSpansWithoutATraceparent() {
        var s = span()
        s.traceID = nil; s.parentSpanID = "00f067aa0ba902b7"
        s.errorType = "upstream_5xx"; s.status = 502; s.stream = false
        s.provider = "gemini"; s.operation = "generate"; s.modelRequested = nil; s.model = "gemini-2.0-flash"
        let o = OTLPSpan(s, provider: nil, bodies: false)
        XCTAssertEqual(Hex.encode(o.traceID), "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b", "its own trace")
        XCTAssertTrue(o.parentSpanID.isEmpty, "no parent without a trace")
        XCTAssertTrue(o.isError)
        XCTAssertEqual(o.statusMessage, "upstream_5xx")
        XCTAssertEqual(o.attribute("error.type"), .string("upstream_5xx"))
        XCTAssertEqual(o.attribute("gen_ai.provider.name"), .string("gcp.gemini"))
        XCTAssertEqual(o.attribute("gen_ai.operation.name"), .string("generate_content"))
        XCTAssertEqual(o.name, "generate_content gemini-2.0-flash")
        XCTAssertNil(o.attribute("gen_ai.response.time_to_first_chunk"), "not a stream")
        var other = s
        other.operation = "other"; other.method = "GET"
        XCTAssertEqual(OTLPSpan(other, provider: nil, bodies: false).name, "GET")
        XCTAssertNil(OTLPSpan(other, provider: nil, bodies: false).attribute("gen_ai.operation.name"))
    }

    func testBodiesOnlyWhenAsked() {
        var s = span()
        s.requestBody = #"{"model":"claude-sonnet-4","system":"Be brief.","messages":[{"role":"user","content":"Hi"}]}"#
        s.responseBody = nil
        XCTAssertNil(OTLPSpan(s, provider: anthropic, bodies: false).attribute("gen_ai.input.messages"))
        let o = OTLPSpan(s, provider: anthropic, bodies: true)
        XCTAssertEqual(o.attribute("gen_ai.input.messages"), .string(#"[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#))
        XCTAssertEqual(o.attribute("gen_ai.system_instructions"), .string(#"[{"type":"text","content":"Be brief."}]"#))
    }

    /// The protobuf body decodes (with swift-protobuf's own decoder; the Python suite decodes it
    /// with opentelemetry-proto) to the same spans, and the JSON body has hex ids.
    func testEncodingsCarryTheSpans() throws {
        let spans = [OTLPSpan(span(), provider: anthropic, bodies: false)]
        let resource = OTLPResource(serviceName: "gw", instanceID: "inst", hostName: "h", scopeVersion: "9.9")
        let bytes = OTLPProtobuf.request(spans, resource: resource)
        XCTAssertEqual(bytes, try OTLPProtobuf.message(spans, resource: resource), "the wire encoder writes swift-protobuf's bytes")
        let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: bytes)
        let p = decoded.resourceSpans[0].scopeSpans[0].spans[0]
        XCTAssertEqual(Hex.encode(Array(p.traceID)), "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(p.kind, .client)
        XCTAssertEqual(p.attributes.count, spans[0].attributes.count)
        XCTAssertEqual(p.attributes.first { $0.key == "gen_ai.usage.input_tokens" }?.value.intValue, 1_200)
        XCTAssertEqual(decoded.resourceSpans[0].resource.attributes.map(\.key), ["service.name", "service.instance.id", "host.name"])
        XCTAssertEqual(decoded.resourceSpans[0].scopeSpans[0].scope.version, "9.9")

        let json = String(decoding: OTLPJSON.request(spans, resource: resource), as: UTF8.self)
        let parsed = try JSONParser.parse(json)
        XCTAssertNotNil(parsed["resourceSpans"])
        XCTAssertTrue(json.contains(#""traceId":"4bf92f3577b34da6a3ce929d0e0e4736""#))
        XCTAssertTrue(json.contains(#""parentSpanId":"00f067aa0ba902b7""#))
        XCTAssertTrue(json.contains(#"{"key":"gen_ai.usage.input_tokens","value":{"intValue":"1200"}}"#))
        XCTAssertTrue(json.contains(#""kind":3"#))
        let gz = try Gzip.compress(Array(json.utf8))
        XCTAssertEqual(try Gzip.decompress(gz, limit: 1 << 20), Array(json.utf8))
        XCTAssertThrowsError(try Gzip.decompress(gz, limit: 100), "an inflation bound holds")
    }

    /// The hand-written encoder and swift-protobuf's messages give the same bytes for every kind
    /// of span the mapping makes: errors, roots, every attribute type, unicode, long strings
    /// (two-byte lengths), negative integers (ten-byte varints), non-finite doubles.
    func testTheWireEncoderMatchesSwiftProtobufByteForByte() throws {
        let resource = OTLPResource(serviceName: "gw", instanceID: "inst", hostName: "h", scopeVersion: "9.9",
                                    extra: [("deployment.environment", "prod")])
        var spans: [OTLPSpan] = []
        for n in 0..<200 {
            var s = span()
            s.spanID = Hex.encode((0..<16).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) })
            s.traceID = n % 3 == 0 ? nil : s.traceID
            s.errorType = n % 4 == 0 ? "upstream_5xx" : nil
            s.errorType = n % 8 == 0 ? "" : s.errorType
            s.userID = String(repeating: "ü", count: n * 3)
            s.inputTokens = n % 5 == 0 ? -Int64(n) : Int64(n) << 40
            s.costUSD = [nil, 0.1, .infinity, .nan, -0.0][n % 5]
            s.properties = n % 2 == 0 ? [:] : ["team": String(repeating: "x", count: n * 10), "模型": "é"]
            s.requestBody = #"{"model":"m","messages":[{"role":"user","content":"\#(n)"}]}"#
            spans.append(OTLPSpan(s, provider: n % 2 == 0 ? anthropic : nil, bodies: n % 3 == 0))
        }
        XCTAssertEqual(OTLPProtobuf.request(spans, resource: resource), try OTLPProtobuf.message(spans, resource: resource))
        XCTAssertEqual(OTLPProtobuf.request([], resource: resource), try OTLPProtobuf.message([], resource: resource))
        // Empty texts outside a oneof are left out by both; inside one (a value) written by both.
        var empty = span()
        empty.method = ""; empty.operation = "other"; empty.properties = ["": ""]; empty.errorType = ""
        empty.tsStart = 0; empty.tsEnd = 0          // zero times are left out
        let blank = OTLPResource(serviceName: "", instanceID: "", hostName: "", scopeVersion: "")
        let o = [OTLPSpan(empty, provider: nil, bodies: false)]
        XCTAssertEqual(o[0].name, "")
        XCTAssertEqual(OTLPProtobuf.request(o, resource: blank), try OTLPProtobuf.message(o, resource: blank))
    }

    func testSettingsFromFileAndEnvironment() throws {
        let table: [String: JSONValue] = ["endpoint": .string("http://collector:4318/"), "headers": .object(["x-api-key": .string("k-${KEY}-z")])]
        let s = try OTLPSettings(table: table, environment: ["KEY": "123"])
        XCTAssertEqual(s.tracesURL, "http://collector:4318/v1/traces")
        XCTAssertEqual(s.headers.map { "\($0.name)=\($0.value)" }, ["x-api-key=k-123-z"])
        XCTAssertEqual(s.encoding, .protobuf)
        XCTAssertTrue(s.gzip)

        let e = try OTLPSettings(table: table, environment: [
            "KEY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example/base", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=over%20ride,x-b=2", "OTEL_EXPORTER_OTLP_COMPRESSION": "none",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_SERVICE_NAME": "svc", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod",
        ])
        XCTAssertEqual(e.tracesURL, "https://otel.example/base/v1/traces")
        XCTAssertEqual(e.encoding, .json)
        XCTAssertEqual(e.headers.map { "\($0.name)=\($0.value)" }, ["x-api-key=over ride", "x-b=2"])
        XCTAssertFalse(e.gzip)
        XCTAssertEqual(e.timeout, 2.5)
        XCTAssertEqual(e.serviceName, "svc")
        XCTAssertEqual(e.resourceAttributes.map { "\($0.0)=\($0.1)" }, ["deployment.environment=prod"])
        let signal = try OTLPSettings(table: table, environment: ["KEY": "1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h:1/custom"])
        XCTAssertEqual(signal.tracesURL, "http://h:1/custom", "a signal endpoint is used as it is")

        for (bad, message) in [
            (["endpoint": JSONValue.string("ftp://x")], "must be an http:// or https:// URL"),
            (["endpoint": .string("http://x"), "protocol": .string("grpc")], "gRPC is not supported"),
            (["endpoint": .string("http://x"), "headers": .object(["a": .string("${NOPE}")])], "NOPE, which is not set"),
            (["endpoint": .string("http://x"), "headers": .object(["a": .string("x\r\nInjected: 1")])], "cannot carry"),
            (["endpoint": .string("http://x"), "bodies": .bool(true)], "unknown key 'bodies'"),
            ([:], "needs endpoint"),
        ] as [([String: JSONValue], String)] {
            XCTAssertThrowsError(try OTLPSettings(table: bad, environment: [:])) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    func testStatusMessageOfAProtobufError() {
        // google.rpc.Status { code: 3, message: "bad span" }
        let body: [UInt8] = [0x08, 0x03, 0x12, 0x08] + Array("bad span".utf8)
        XCTAssertEqual(OTLPSink.statusMessage(body), "bad span")
        XCTAssertEqual(OTLPSink.statusMessage([0xFF, 0xFF]), "(2 bytes of protobuf)")
    }
}
