import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import PlumbCore

/// `plumb-mock [--listen HOST:PORT] [--latency-ms N] [--chunk-delay-ms N]`: the simulated
/// providers that tests and benchmarks put behind Plumb (there is no internet here). Paths are
/// matched by their ending, so `/v1/chat/completions` and `/openai/v1/chat/completions` both work;
/// Azure OpenAI and AI Foundry live under `/azure` (AzureMock), AWS Bedrock under `/bedrock`
/// (BedrockMock), Google Vertex AI under `/vertex` (VertexMock; `--google-public-key PEM` is the
/// service account key its token endpoint accepts).
/// Prints `plumb-mock: listening on http://HOST:PORT` once it accepts connections.
struct MockServer: HTTPResponder {
    typealias Context = BasicRequestContext
    let defaults: MockControls
    let cache = PromptCache()
    let vertexTokens: VertexTokens
    let counter = Counter()

    func respond(to request: Request, context: Context) async throws -> Response {
        let c = MockControls(headers: request.headers, defaults: defaults)
        let body = try await request.body.collect(upTo: 256 << 20)
        let target = request.head.path ?? "/"
        let path = String(target.prefix { $0 != "?" })
        let query = target.contains("?") ? String(target.drop { $0 != "?" }.dropFirst()) : ""
        if path.hasSuffix("/_mock/health") { return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok"))) }
        if path.hasSuffix("/_mock/echo") {
            // What arrived, for header-stripping and routing tests.
            var headers: [String: JSONValue] = [:]
            for f in request.headers { headers[f.name.canonicalName] = .string(f.value) }
            var w = JSONWriter()
            w.value(.object(["method": .string(request.method.rawValue), "path": .string(path), "query": .string(query),
                             "headers": .object(headers), "body": .string(String(decoding: body.readableBytesView, as: UTF8.self))]))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: w.bytes)))
        }
        // Google's OAuth token endpoint takes a form, not JSON.
        if path == VertexMock.prefix + "/token" { return vertexTokens.grant(Array(body.readableBytesView)).response(c) }
        if c.latencyMs > 0 { try await Task.sleep(nanoseconds: UInt64(c.latencyMs) * 1_000_000) }
        if c.fault == "hang" { try await Task.sleep(nanoseconds: 3_600_000_000_000) }
        let anthropic = path.hasSuffix("/messages")
        if c.fault == "500" { return MockReply.error(.internalServerError, "mock upstream failure", anthropic: anthropic).response(c) }
        if c.fault == "429" { return MockReply.error(.tooManyRequests, "mock rate limit", anthropic: anthropic).response(c) }
        var json: [String: JSONValue] = [:]
        if body.readableBytes > 0 {
            guard case .object(let o)? = try? JSONParser.parse(Array(body.readableBytesView)) else {
                return MockReply.error(.badRequest, "request body is not a JSON object").response(MockControls())
            }
            json = o
        }
        // X-Mock-Seed fixes the ids in a response, so two requests can be compared byte for byte.
        let serial = request.headers[HTTPField.Name("X-Mock-Seed")!].flatMap { Int($0) } ?? counter.next()
        let reply: MockReply
        func call(dropping prefix: String) -> MockRequest {
            MockRequest(path: String(path.dropFirst(prefix.count)), query: query, headers: request.headers, authority: request.head.authority,
                        method: request.method.rawValue, body: Array(body.readableBytesView), json: json, controls: c, serial: serial, cache: cache)
        }
        if path.hasPrefix(VertexMock.prefix + "/") {
            return VertexMock(call: call(dropping: VertexMock.prefix), tokens: vertexTokens).respond().response(c)
        }
        if path.hasPrefix(BedrockMock.prefix + "/") {
            return BedrockMock(call: call(dropping: "")).respond().response(c)
        }
        if path == AzureMock.prefix || path.hasPrefix(AzureMock.prefix + "/") {
            return AzureMock(path: String(path.dropFirst(AzureMock.prefix.count)), query: query, headers: request.headers,
                             request: json, c: c, serial: serial).respond().response(c)
        }
        let openai = OpenAIMock(request: json, c: c, serial: serial)
        if path.hasSuffix("/chat/completions") { reply = openai.chat() }
        else if path.hasSuffix("/completions") { reply = openai.completion() }
        else if path.hasSuffix("/embeddings") { reply = openai.embeddings() }
        else if path.hasSuffix("/responses") { reply = openai.responses() }
        else if anthropic { reply = AnthropicMock(request: json, c: c, serial: serial, cache: cache).messages() }
        else if let r = path.range(of: "/models/"), path.hasSuffix("generateContent") || path.hasSuffix("GenerateContent") {
            let rest = path[r.upperBound...]
            let model = String(rest.prefix { $0 != ":" })
            let stream = rest.hasSuffix(":streamGenerateContent")
            reply = GeminiMock(request: json, c: c, model: model, serial: serial)
                .generate(stream: stream, sse: query.split(separator: "&").contains("alt=sse"))
        } else {
            reply = MockReply.error(.notFound, "the mock has no route \(request.method.rawValue) \(path)")
        }
        return reply.response(c)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

let listen = option("--listen") ?? "127.0.0.1:0"
guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
    FileHandle.standardError.write(Data("plumb-mock: --listen wants HOST:PORT\n".utf8)); exit(2)
}
var defaults = MockControls()
defaults.latencyMs = option("--latency-ms").flatMap { Int($0) } ?? 0
defaults.chunkDelayMs = option("--chunk-delay-ms").flatMap { Int($0) } ?? 0
var logger = Logger(label: "plumb-mock")
logger.logLevel = .error
let app = Application(
    responder: MockServer(defaults: defaults, vertexTokens: VertexTokens(
        publicKeyPEM: option("--google-public-key").flatMap { try? String(contentsOfFile: $0, encoding: .utf8) })),
    configuration: .init(address: .hostname(String(listen[..<colon]), port: port), serverName: nil, backlog: 1024),
    onServerRunning: { channel in
        print("plumb-mock: listening on http://\(listen[..<colon]):\(channel.localAddress?.port ?? 0)")
        fflush(nil)
    },
    logger: logger)
try await app.runService()
