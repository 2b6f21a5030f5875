import NIOCore
import NIOHTTP1
import XCTest
@testable import PlumbCore
@testable import PlumbProxy

final class ProxyPartsTests: XCTestCase {
    let registry = try! ProviderRegistry(overrides: [
        "local": .object(["base_url": .string("http://127.0.0.1:11434/"), "api": .string("openai")]),
        "anthropic": .object(["base_url": .string("http://mock:1/prefix")]),
    ], defaultProvider: "openai")

    func testRoutes() {
        XCTAssertEqual(Route(path: "/v1/chat/completions", registry: registry), .forward(registry["openai"]!, path: "/v1/chat/completions"))
        XCTAssertEqual(Route(path: "/anthropic/v1/messages", registry: registry), .forward(registry["anthropic"]!, path: "/v1/messages"))
        XCTAssertEqual(registry["anthropic"]!.upstreamURL(path: "/v1/messages", query: "a=1"), "http://mock:1/prefix/v1/messages?a=1")
        XCTAssertEqual(registry["anthropic"]!.shape, .anthropic, "an override keeps the built-in's API shape")
        XCTAssertEqual(registry["local"]!.upstreamURL(path: "/v1/x", query: nil), "http://127.0.0.1:11434/v1/x")
        XCTAssertEqual(Route(path: "/_plumb/health", registry: registry), .admin(path: "/health"))
        XCTAssertEqual(Route(path: "/evil.com/v1", registry: registry), .unknownProvider("evil.com"))
        XCTAssertEqual(Route(path: "//openai/v1", registry: registry), .forward(registry["openai"]!, path: "/v1"))
        if case .forward = Route(path: "/openai/v1/../../x", registry: registry) { XCTFail("dot segments must not pass") }
        XCTAssertEqual(Route(path: "/", registry: registry), .unknownProvider(""))
    }

    func testRegistryRejectsBadConfig() {
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["new": .object(["api": .string("openai")])])) {
            XCTAssertTrue("\($0)".contains("base_url is required"))
        }
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["x": .object(["base_url": .string("ftp://h")])]))
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["x": .object(["base_url": .string("http://h"), "api": .string("soap")])]))
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["a b": .object(["base_url": .string("http://h")])]))
        XCTAssertThrowsError(try ProviderRegistry(defaultProvider: "nope")) { XCTAssertTrue("\($0)".contains("default_provider 'nope'")) }
    }

    func testAzureProviders() throws {
        let r = try ProviderRegistry(overrides: [
            "azure-eu": .object(["base_url": .string("https://r.openai.azure.com"), "api": .string("azure"), "price_variant": .string("eu")]),
        ])
        let p = try XCTUnwrap(r["azure-eu"])
        XCTAssertEqual(p.shape, .azure); XCTAssertEqual(p.priceVariant, "eu")
        XCTAssertEqual(Route(path: "/azure-eu/openai/deployments/prod/chat/completions", registry: r),
                       .forward(p, path: "/openai/deployments/prod/chat/completions"))
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["x": .object(["base_url": .string("http://h"), "price_variant": .string("eu")])])) {
            XCTAssertTrue("\($0)".contains("price_variant applies to api = \"azure\" only"), "\($0)")
        }
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["x": .object(["base_url": .string("http://h"), "api": .string("azure"),
                                                                           "price_variant": .string("moon")])]))
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["x": .object(["base_url": .string("http://h"), "api": .string("soap")])])) {
            XCTAssertTrue("\($0)".contains("openai, anthropic, gemini, azure, bedrock, vertex, passthrough"), "\($0)")
        }
        // The operation from the path's end, whichever of Azure's three path shapes.
        for path in ["/openai/deployments/prod/chat/completions", "/openai/v1/chat/completions", "/models/chat/completions"] {
            XCTAssertEqual(PlumbCore.Operation(shape: .azure, method: "POST", path: path), .chat, path)
        }
        XCTAssertEqual(PlumbCore.Operation(shape: .azure, method: "POST", path: "/openai/deployments/e/embeddings"), .embeddings)
        // The deployment in the path is what was asked for; v1 and Foundry name it in the body.
        let body = Array(#"{"model":"body-model","stream":true,"messages":[]}"#.utf8)
        let dated = RequestInspection(shape: .azure, operation: .chat, path: "/openai/deployments/gpt4o-prod/chat/completions",
                                      query: "api-version=2024-10-21", body: body)
        XCTAssertEqual(dated.modelRequested, "gpt4o-prod")
        XCTAssertTrue(dated.injectedUsage && dated.stream, "Azure streams get usage asked for, as OpenAI's")
        XCTAssertEqual(RequestInspection(shape: .azure, operation: .chat, path: "/openai/v1/chat/completions", body: body).modelRequested, "body-model")
        // stream_options only where Azure takes it: v1, and api-version 2024-09-01-preview on.
        let chat = "/openai/deployments/d/chat/completions"
        XCTAssertTrue(RequestInspection(shape: .azure, operation: .chat, path: chat, query: "api-version=2024-10-21", body: body).injectedUsage)
        XCTAssertTrue(RequestInspection(shape: .azure, operation: .chat, path: chat, query: "x=1&api-version=2025-04-01-preview", body: body).injectedUsage)
        XCTAssertTrue(RequestInspection(shape: .azure, operation: .chat, path: "/openai/v1/chat/completions", body: body).injectedUsage)
        XCTAssertFalse(RequestInspection(shape: .azure, operation: .chat, path: chat, query: "api-version=2024-06-01", body: body).injectedUsage)
        XCTAssertFalse(RequestInspection(shape: .azure, operation: .chat, path: chat, query: nil, body: body).injectedUsage)
        XCTAssertFalse(RequestInspection(shape: .azure, operation: .chat, path: "/models/chat/completions", query: "api-version=2025-01-01", body: body).injectedUsage)
        XCTAssertEqual(RequestInspection(shape: .azure, operation: .embeddings, path: "/openai/deployments/e/embeddings", body: [UInt8]()).modelRequested, "e")
        // Plumb's own key goes in Azure's api-key header, the caller's credentials never.
        var caller = CallerHeaders(HTTPHeaders([("api-key", "plumb-key"), ("Authorization", "Bearer entra"), ("X-Other", "v")]))
        caller.useProviderKey("azure-secret", shape: .azure)
        XCTAssertEqual(caller.forwarded.map { "\($0.0)=\($0.1)" }, ["X-Other=v", "api-key=azure-secret"])
        // What a finished answer is recorded as.
        XCTAssertEqual(ProxyCall.errorType(status: 400, usage: CallUsage(errorCode: "content_filter")), "content_filtered")
        XCTAssertEqual(ProxyCall.errorType(status: 200, usage: CallUsage(finishReason: "content_filter")), "content_filtered")
        XCTAssertEqual(ProxyCall.errorType(status: 401, usage: CallUsage()), "auth_failed")
        XCTAssertEqual(ProxyCall.errorType(status: 403, usage: nil), "auth_failed")
        XCTAssertEqual(ProxyCall.errorType(status: 429, usage: nil), "rate_limited")
        XCTAssertEqual(ProxyCall.errorType(status: 503, usage: nil), "upstream_5xx")
        XCTAssertNil(ProxyCall.errorType(status: 400, usage: CallUsage(errorCode: "invalid_request")))
        XCTAssertNil(ProxyCall.errorType(status: 200, usage: CallUsage(finishReason: "stop")))
        XCTAssertEqual(ProxyCall.errorType(status: 200, usage: CallUsage(errorCode: "throttlingException")), "rate_limited")
        XCTAssertEqual(ProxyCall.errorType(status: 200, usage: CallUsage(errorCode: "modelStreamErrorException")), "upstream_stream_error")
    }

    func testBedrockProvidersAndSigning() throws {
        let r = try ProviderRegistry(overrides: [
            "bedrock": .object(["base_url": .string("https://bedrock-runtime.eu-west-3.amazonaws.com"), "api": .string("bedrock")]),
            "gov": .object(["base_url": .string("http://127.0.0.1:9/bedrock"), "api": .string("bedrock"), "region": .string("us-gov-west-1"),
                            "aws_profile": .string("prod")]),
        ])
        XCTAssertEqual(r["bedrock"]?.region, "eu-west-3", "the region from the endpoint's host")
        XCTAssertEqual(r["gov"]?.region, "us-gov-west-1"); XCTAssertEqual(r["gov"]?.awsProfile, "prod")
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["b": .object(["base_url": .string("http://h"), "api": .string("bedrock")])])) {
            XCTAssertTrue("\($0)".contains("region is required"), "\($0)")
        }
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["b": .object(["base_url": .string("http://h"), "api": .string("bedrock"), "region": .string("US East")])]))
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["b": .object(["base_url": .string("http://h"), "region": .string("us-east-1")])])) {
            XCTAssertTrue("\($0)".contains("applies to api = \"bedrock\" only"), "\($0)")
        }
        let path = "/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"
        XCTAssertEqual(PlumbCore.Operation(shape: .bedrock, method: "POST", path: path), .chat)
        XCTAssertEqual(PlumbCore.Operation(shape: .bedrock, method: "POST", path: "/model/amazon.titan-embed-text-v2%3A0/invoke"), .embeddings)
        let inspection = RequestInspection(shape: .bedrock, operation: .chat, path: path,
                                           body: Array(#"{"messages":[],"inferenceConfig":{"maxTokens":300}}"#.utf8))
        XCTAssertEqual(inspection.modelRequested, "us.anthropic.claude-3-5-sonnet-20240620-v1:0")
        XCTAssertTrue(inspection.stream); XCTAssertEqual(inspection.maxTokens, 300); XCTAssertFalse(inspection.injectedUsage)
        // Who asked: the access key id of the caller's signature (a Plumb key there is one).
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDCALLER/20251201/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
        let caller = CallerHeaders(HTTPHeaders([("Authorization", auth), ("X-Amz-Date", "20251201T120000Z"), ("Content-Type", "application/json"),
                                                ("X-Amz-Security-Token", "callers-token"), ("amz-sdk-request", "attempt=1")]))
        XCTAssertEqual(caller.apiKey, "AKIDCALLER"); XCTAssertNil(caller.plumbKey)
        let plumbKey = "sk-plumb-" + String(repeating: "a", count: 40)
        XCTAssertEqual(CallerHeaders(HTTPHeaders([("Authorization", auth.replacingOccurrences(of: "AKIDCALLER", with: plumbKey))])).plumbKey, plumbKey)
        // Plumb's signature replaces the caller's: its fields dropped, Plumb's added, the rest kept.
        let signer = SigV4(credentials: AWSCredentials(accessKeyID: "AKIDPLUMB", secretAccessKey: "s", sessionToken: "plumbs-token"),
                           region: "us-east-1", service: "bedrock")
        let fields = BedrockSigning.fields(caller.forwarded, signer: signer, method: "POST", path: path, query: nil,
                                           host: "bedrock-runtime.us-east-1.amazonaws.com", body: ByteBuffer(string: "{}"), nowMicros: 1_764_590_400_000_000)
        XCTAssertEqual(fields.map(\.0), ["Content-Type", "amz-sdk-request", "X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        XCTAssertEqual(fields[2].1, "20251201T120000Z"); XCTAssertEqual(fields[3].1, "plumbs-token")
        XCTAssertTrue(fields[4].1.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDPLUMB/20251201/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="))
        XCTAssertNil(BedrockSigning.bearerKey(caller.forwarded))
        XCTAssertTrue(BedrockSigning.isModelCall(method: .POST, path: path))
        XCTAssertTrue(BedrockSigning.isModelCall(method: .POST, path: "/model/m%3A0/invoke"))
        for (m, p) in [(HTTPMethod.GET, path), (.POST, "/async-invoke"), (.POST, "/model//converse"), (.POST, "/model/m/converse/x"),
                       (.POST, "/guardrail/g/version/1/apply"), (.POST, "/model/m/list")] {
            XCTAssertFalse(BedrockSigning.isModelCall(method: m, path: p), "\(m) \(p)")
        }
        // No credential of the caller's goes on beside Plumb's signature; every Content-Type is signed.
        let other = BedrockSigning.fields([("x-api-key", plumbKey), ("Content-Type", "application/json"), ("content-type", "application/json")],
                                          signer: signer, method: "POST", path: path, query: nil, host: "h", body: ByteBuffer(), nowMicros: 0)
        XCTAssertFalse(other.contains { $0.0 == "x-api-key" })
        XCTAssertTrue(other.last!.1.contains("SignedHeaders=content-type;host;"))
        var awsPlumbKey = CallerHeaders(HTTPHeaders([("Authorization", auth.replacingOccurrences(of: "AKIDCALLER", with: plumbKey))]))
        XCTAssertFalse(awsPlumbKey.dropPlumbKeys(), "a Plumb key as a SigV4 access key id is a Plumb key: dropped")
        XCTAssertTrue(awsPlumbKey.forwarded.isEmpty)
        XCTAssertEqual(BedrockSigning.bearerKey([("authorization", "Bearer bedrock-api-key")]), "bedrock-api-key")
        XCTAssertNil(BedrockSigning.bearerKey([("authorization", "Bearer " + plumbKey)]), "a Plumb key is never forwarded")
        let price = PriceCatalog.builtIn.price(PriceKey(provider: r["bedrock"]!, endpoint: path), model: "us.anthropic.claude-3-5-sonnet-20240620-v1:0")
        XCTAssertEqual(price?.input, 3e-6)
    }

    func testVertexProviders() throws {
        let r = try ProviderRegistry(overrides: ["vertex": .object(["base_url": .string("https://us-central1-aiplatform.googleapis.com"), "api": .string("vertex")])])
        let p = try XCTUnwrap(r["vertex"])
        let gemini = "/v1beta1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent"
        let claude = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
        XCTAssertEqual(PlumbCore.Operation(shape: .vertex, method: "POST", path: gemini), .generate)
        XCTAssertEqual(PlumbCore.Operation(shape: .vertex, method: "POST", path: claude), .messages)
        XCTAssertEqual(APIShape.vertex.bodyShape(path: gemini), .gemini)
        XCTAssertEqual(APIShape.vertex.bodyShape(path: claude), .anthropic)
        let g = RequestInspection(shape: .vertex, operation: .generate, path: gemini, body: Array(#"{"generationConfig":{"maxOutputTokens":77}}"#.utf8))
        XCTAssertEqual(g.modelRequested, "gemini-2.5-flash"); XCTAssertTrue(g.stream); XCTAssertEqual(g.maxTokens, 77)
        let c = RequestInspection(shape: .vertex, operation: .messages, path: claude, body: Array(#"{"anthropic_version":"x","max_tokens":50}"#.utf8))
        XCTAssertEqual(c.modelRequested, "claude-sonnet-4-5@20250929"); XCTAssertFalse(c.stream); XCTAssertEqual(c.maxTokens, 50)
        XCTAssertEqual(PriceCatalog.builtIn.price(PriceKey(provider: p, endpoint: claude), model: "claude-sonnet-4-5@20250929")?.input, 3e-6)
        XCTAssertThrowsError(try ProviderRegistry(overrides: ["x": .object(["base_url": .string("http://h"), "service_account_file": .string("/k.json")])])) {
            XCTAssertTrue("\($0)".contains("applies to api = \"vertex\" only"), "\($0)")
        }
        // A service account's token replaces every credential the caller sent.
        let fields = ProxyConnectionHandler.withToken([("Authorization", "Bearer caller"), ("x-goog-api-key", "k"), ("X-Other", "v")], "ya29.plumb")
        XCTAssertEqual(fields.map { "\($0.0)=\($0.1)" }, ["X-Other=v", "Authorization=Bearer ya29.plumb"])
    }

    func testCallerHeaders() {
        let fields = HTTPHeaders([
            ("Plumb-User-Id", "u"), ("Helicone-Session-Id", "s"), ("Plumb-Property-Team-Name", "core"),
            ("Helicone-Property-Env", "prod"), ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("Authorization", "Bearer sk-1"), ("Accept-Encoding", "gzip"), ("Connection", "keep-alive"), ("X-Other", "v"),
        ])
        let h = CallerHeaders(fields)
        XCTAssertEqual(h.userID, "u"); XCTAssertEqual(h.sessionID, "s")
        XCTAssertEqual(h.properties, ["team-name": "core", "env": "prod"])
        XCTAssertEqual(h.traceID, "0af7651916cd43dd8448eb211c80319c"); XCTAssertEqual(h.parentSpanID, "b7ad6b7169203331")
        XCTAssertEqual(h.apiKey, "sk-1")
        XCTAssertEqual(h.forwarded.map(\.0.self).map { $0.lowercased() }, ["authorization", "x-other"])
    }

    func testUsageInjectionAndFilter() throws {
        let body = Array(#"{"model":"gpt-4o","stream":true,"messages":[]}"#.utf8)
        let r = RequestInspection(shape: .openai, operation: .chat, path: "/v1/chat/completions", body: body)
        XCTAssertTrue(r.injectedUsage && r.stream)
        XCTAssertEqual(String(decoding: r.rewrittenBody!, as: UTF8.self), #"{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true,"messages":[]}"#)
        let merged = RequestInspection(shape: .openai, operation: .chat, path: "/v1/chat/completions",
                                       body: Array(#"{"stream":true,"stream_options":{"include_obfuscation":false}}"#.utf8))
        XCTAssertEqual(try JSONParser.parse(merged.rewrittenBody!)["stream_options"], .object(["include_obfuscation": .bool(false), "include_usage": .bool(true)]))
        let asked = RequestInspection(shape: .openai, operation: .chat, path: "/v1/chat/completions",
                                      body: Array(#"{"stream":true,"stream_options":{"include_usage":true}}"#.utf8))
        XCTAssertFalse(asked.injectedUsage)
        XCTAssertFalse(RequestInspection(shape: .openai, operation: .embeddings, path: "/v1/embeddings", body: body).injectedUsage)
        let gemini = RequestInspection(shape: .gemini, operation: .generate, path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent", body: [])
        XCTAssertEqual(gemini.modelRequested, "gemini-2.5-pro"); XCTAssertTrue(gemini.stream)

        func event(_ s: String) -> SSEEvent { var sc = SSEScanner(); return sc.feed(Array(s.utf8))[0] }
        let usageOnly = event("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n")
        XCTAssertNil(UsageChunkFilter.filter(usageOnly))
        let chunk = event("data: {\"choices\":[{\"delta\":{}}],\"usage\":null}\n\n")
        XCTAssertEqual(String(decoding: UsageChunkFilter.filter(chunk)!, as: UTF8.self), "data: {\"choices\":[{\"delta\":{}}]}\n\n")
        XCTAssertEqual(String(decoding: UsageChunkFilter.removingNullUsage(Array(#"{"usage": null, "a":1}"#.utf8)), as: UTF8.self), #"{ "a":1}"#)
        let done = event("data: [DONE]\n\n")
        XCTAssertEqual(UsageChunkFilter.filter(done), done.raw)
        // Usage on a chunk that also has choices is the caller's to see; a usage-like text inside
        // a string is content, not a member.
        let both = event("data: {\"choices\":[{\"delta\":{}}],\"usage\" : {\"prompt_tokens\":1}}\n\n")
        XCTAssertEqual(UsageChunkFilter.filter(both), both.raw)
        let quoted = event(#"data: {"choices":[{"delta":{"content":"\"usage\":null"}}]}"# + "\n\n")
        XCTAssertEqual(UsageChunkFilter.filter(quoted), quoted.raw)
        let spaced = event("data: {\"choices\":[], \"usage\":\t{}}\n\n")
        XCTAssertNil(UsageChunkFilter.filter(spaced))
    }

    /// The byte-level checks agree with the plain String rule: `hopByHop` on lowered names.
    func testHopByHopNamesInAnyCaseAgreeWithTheSet() {
        var rng = SystemRandomNumberGenerator()
        func randomCase(_ s: String) -> String { String(s.map { Bool.random(using: &rng) ? Character($0.uppercased()) : Character($0.lowercased()) }) }
        let near = ["tf", "hosts", "hast", "expecT1", "trailers", "upgrades", "connectiom", "keep_alive", "content-lengtH2",
                    "accept-encodinG", "accept-encodinh", "proxy-connectioN", "transfer-encodinx", "proxy-authenticatf", "proxy-authorizatioN"]
        for name in Array(CallerHeaders.hopByHop) + near {
            for _ in 0..<8 {
                let spelled = randomCase(name)
                XCTAssertEqual(CallerHeaders.isHopByHop(spelled), CallerHeaders.hopByHop.contains(spelled.lowercased()), spelled)
                let head = try! UpstreamResponseHead(Array("HTTP/1.1 200 OK\r\n\(spelled): x\r\n".utf8))
                let dropped = ClientResponseWriter.dropped.contains { head.name(of: head.fields[0], is: $0) }
                XCTAssertEqual(dropped, CallerHeaders.hopByHop.contains(spelled.lowercased()) && spelled.lowercased() != "content-length", spelled)
            }
        }
        XCTAssertTrue(ASCIICase.equals("Text/Event-Stream".utf8, "text/event-stream"))
        XCTAssertFalse(ASCIICase.equals("text/event-stream;".utf8, "text/event-stream"))
        XCTAssertFalse(ASCIICase.equals("TE\u{0}".utf8, "te"))
    }

    func testEventStreamContentTypeInAnyCase() {
        XCTAssertTrue(ProxyCall.isEventStream("text/event-stream".utf8))
        XCTAssertTrue(ProxyCall.isEventStream("Text/Event-Stream; charset=utf-8".utf8))
        XCTAssertFalse(ProxyCall.isEventStream("text/event-strea".utf8))
        XCTAssertFalse(ProxyCall.isEventStream("application/json".utf8))
        XCTAssertFalse(ProxyCall.isEventStream("text/event\rstream".utf8), "only letters fold (CR | 0x20 is a hyphen)")
    }

    func testBodyCaptureCutsOnUTF8Boundary() {
        var c = BodyCapture(cap: 5)
        c.append(Array("aé€x".utf8))     // 1 + 2 + 3 + 1 bytes
        XCTAssertEqual(c.total, 7); XCTAssertTrue(c.truncated)
        XCTAssertEqual(c.text, "aé")
        var d = BodyCapture(cap: 6)
        d.append(Array("aé€x".utf8))
        XCTAssertEqual(d.text, "aé€")
    }

    /// A long body is kept in compressed blocks as it arrives and comes back byte for byte, cut
    /// at the cap as before; bytes that do not compress are kept as they are.
    func testBodyCapturePacksLongBodiesAndGivesThemBackWhole() {
        var sse: [UInt8] = []
        for i in 0..<600 {
            sse += Array(#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"word\#(i) é"}}]}"#.utf8) + [10, 10]
        }
        var rng = SystemRandomNumberGenerator()
        let noise = (0..<30_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for (body, cap) in [(sse, 1 << 20), (noise, 1 << 20), (sse + noise, 50_000), (sse, BodyCapture.blockBytes)] {
            var c = BodyCapture(cap: cap)
            var at = 0, step = 1
            while at < body.count {                       // chunks of every size, some across blocks
                let end = min(body.count, at + step)
                c.append(body[at..<end])
                at = end; step = step * 3 % 9_001 + 1
            }
            XCTAssertEqual(c.total, body.count)
            XCTAssertEqual(c.bytes, Array(body.prefix(cap)))
            XCTAssertEqual(c.truncated, body.count > cap)
        }
        var c = BodyCapture(cap: 1 << 20)
        c.append(sse)
        XCTAssertLessThan(c.heldBytes, sse.count / 3, "an SSE body of \(sse.count) bytes held in \(c.heldBytes)")
        XCTAssertEqual(c.text, String(decoding: sse, as: UTF8.self))
    }

    func testKeyFingerprintIsKeyedPerInstallation() throws {
        let a = KeyFingerprint(secret: Array(repeating: 1, count: 32)), b = KeyFingerprint(secret: Array(repeating: 2, count: 32))
        XCTAssertEqual(a.hash("sk-1").count, 16)
        XCTAssertEqual(a.hash("sk-1"), a.hash("sk-1"))
        XCTAssertNotEqual(a.hash("sk-1"), a.hash("sk-2"))
        XCTAssertNotEqual(a.hash("sk-1"), b.hash("sk-1"))
    }

    /// A loop's cache answers what the fingerprint answers, and holds at most its capacity of
    /// keys however many different ones arrive.
    func testKeyFingerprintCacheAgreesAndStaysBounded() {
        let fp = KeyFingerprint(secret: Array(repeating: 7, count: 32))
        let cache = KeyFingerprintCache(fp)
        for i in 0..<(3 * KeyFingerprintCache.capacity) {
            let key = "sk-\(i % 300)-" + String(repeating: "x", count: i % 17)
            XCTAssertEqual(cache.hash(key), fp.hash(key))
            XCTAssertLessThanOrEqual(cache.count, KeyFingerprintCache.capacity)
        }
        XCTAssertEqual(cache.hash("sk-1"), cache.hash("sk-1"))
        XCTAssertEqual(cache.hash("sk-1"), fp.hash("sk-1"))
    }

    /// A peer's address is judged from its bytes (127/8, ::1, ::ffff:127/104), as its text was.
    func testLoopbackPeerAddresses() throws {
        for (ip, loopback) in [("127.0.0.1", true), ("127.255.1.2", true), ("10.0.0.1", false), ("128.0.0.1", false),
                               ("::1", true), ("::ffff:127.0.0.9", true), ("::ffff:10.0.0.1", false), ("::2", false), ("fe80::1", false)] {
            let address = try SocketAddress(ipAddress: ip, port: 443)
            XCTAssertEqual(LoopbackAddress.isLoopback(address), loopback, ip)
            XCTAssertEqual(LoopbackAddress.isLoopback(address), LoopbackAddress.isLoopback(host: ip), ip)
        }
        XCTAssertFalse(LoopbackAddress.isLoopback(try SocketAddress(unixDomainSocketPath: "/tmp/x.sock")))
        XCTAssertFalse(LoopbackAddress.isLoopback(nil as SocketAddress?))
    }

    func testUpstreamTargetsAndTargetSplitting() {
        let t = UpstreamTarget(baseURL: "https://api.groq.com/openai/")!
        XCTAssertEqual([t.tls ? 1 : 0, t.port], [1, 443]); XCTAssertEqual(t.host, "api.groq.com"); XCTAssertEqual(t.pathPrefix, "/openai")
        XCTAssertEqual(t.hostHeader, "api.groq.com")
        let local = UpstreamTarget(baseURL: "http://127.0.0.1:11434")!
        XCTAssertEqual(local.hostHeader, "127.0.0.1:11434"); XCTAssertTrue(local.hostIsIPAddress); XCTAssertEqual(local.pathPrefix, "")
        XCTAssertEqual(UpstreamTarget(baseURL: "http://[::1]:8080/x")?.host, "::1")
        XCTAssertEqual(UpstreamTarget(baseURL: "http://[::1]:8080/x")?.hostHeader, "[::1]:8080")
        XCTAssertEqual(UpstreamTarget(baseURL: "https://[::1]/x")?.hostHeader, "[::1]")
        XCTAssertNil(UpstreamTarget(baseURL: "ftp://x")); XCTAssertNil(UpstreamTarget(baseURL: "http://h:notaport"))
        // The host goes into the Host header as it is: nothing but a name or an IP literal.
        XCTAssertNil(UpstreamTarget(baseURL: "http://ho st:80")); XCTAssertNil(UpstreamTarget(baseURL: "http://a\r\nX-Evil: 1:80"))
        XCTAssertNil(UpstreamTarget(baseURL: "http://user@host:80"))
        XCTAssertTrue(ProxyConnectionHandler.split("/v1/x?a=1") == ("/v1/x", "a=1"))
        XCTAssertTrue(ProxyConnectionHandler.split("http://evil.example/openai/v1?k=2") == ("/openai/v1", "k=2"))
        XCTAssertTrue(ProxyConnectionHandler.split("https://evil.example") == ("/", nil))
        XCTAssertTrue(ProxyConnectionHandler.split("/v1/x") == ("/v1/x", nil))
        XCTAssertTrue(ProxyConnectionHandler.split("/v1/x?") == ("/v1/x", ""))
        XCTAssertTrue(ProxyConnectionHandler.split("/é/x?q=ü?") == ("/é/x", "q=ü?"))
        XCTAssertEqual(ProxyConnectionHandler.queryKey("alt=sse&key=AI%3Aza"), "AI:za")
    }

    func testListenAddress() throws {
        XCTAssertTrue(try ListenAddress("127.0.0.1:8787").isLoopback)
        XCTAssertEqual(try ListenAddress("[::1]:80").host, "::1")
        XCTAssertFalse(try ListenAddress("0.0.0.0:80").isLoopback)
        XCTAssertThrowsError(try ListenAddress("8787"))
        XCTAssertThrowsError(try ListenAddress("h:99999"))
    }
}
