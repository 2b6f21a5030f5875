import NIOCore
import NIOHTTP1
import PlumbCore

/// A failure Plumb answers itself, with an OpenAI-style JSON error body naming the cause
/// (`{"error":{"message":…,"type":…,"code":…}}`), and the `error_type` its span records.
///
/// ```swift
/// ProxyFailure.unknownProvider("foo").status   // 404
/// ```
struct ProxyFailure: Error {
    let status: HTTPResponseStatus
    let errorType: String
    let message: String

    static func unknownProvider(_ name: String) -> ProxyFailure {
        ProxyFailure(status: .notFound, errorType: "unknown_provider",
                     message: "Plumb has no provider named '\(name)'; use /<provider>/<path> with a configured provider, or /v1/... for the default one")
    }
    static func tooLarge(limit: Int) -> ProxyFailure {
        ProxyFailure(status: .payloadTooLarge, errorType: "request_too_large",
                     message: "request body is over Plumb's limit of \(limit) bytes (max_request_bytes)")
    }
    static func unreachable(_ provider: String, _ detail: String) -> ProxyFailure {
        ProxyFailure(status: .badGateway, errorType: "upstream_unreachable",
                     message: "Plumb could not reach the upstream for provider '\(provider)': \(detail)")
    }
    static func timeout(_ provider: String, seconds: Double) -> ProxyFailure {
        ProxyFailure(status: .gatewayTimeout, errorType: "upstream_timeout",
                     message: "the upstream for provider '\(provider)' did not answer within \(formatSeconds(seconds)) (upstream_timeout)")
    }
    static func badRequest(_ detail: String) -> ProxyFailure {
        ProxyFailure(status: .badRequest, errorType: "bad_request", message: "malformed HTTP request: \(detail)")
    }
    static func invalidPath(_ path: String) -> ProxyFailure {
        ProxyFailure(status: .badRequest, errorType: "invalid_path",
                     message: "the path has a dot segment ('.' or '..', however encoded), which could leave the provider's base path: \(ProxyFailure.shown(path))")
    }
    static func localProvider(_ name: String) -> ProxyFailure {
        ProxyFailure(status: .forbidden, errorType: "local_provider",
                     message: "provider '\(name)' is a service on Plumb's own machine, open to loopback clients only; name it in the config file ([providers.\(name)]) to open it to the network")
    }
    static func tooManyHeaders(_ count: Int, limit: Int) -> ProxyFailure {
        ProxyFailure(status: .requestHeaderFieldsTooLarge, errorType: "too_many_headers",
                     message: "the request has \(count) header fields; Plumb takes at most \(limit)")
    }
    static func invalidHeader(_ detail: String) -> ProxyFailure {
        ProxyFailure(status: .badRequest, errorType: "invalid_header", message: detail)
    }
    static let serverBusy = ProxyFailure(status: .serviceUnavailable, errorType: "server_busy",
                                         message: "Plumb holds as many request bodies as it may (request_buffer_bytes); try again shortly")
    static let requestTimeout = ProxyFailure(status: .requestTimeout, errorType: "request_timeout",
                                             message: "the request body stopped arriving, or came slower than 1 KiB/s (body_timeout)")
    static func forbiddenHost(_ host: String?) -> ProxyFailure {
        ProxyFailure(status: .forbidden, errorType: "forbidden_host",
                     message: "/_plumb/ answers only to this server's own address, and Host is \(host.map { "'\(ProxyFailure.shown($0))'" } ?? "missing"): add the name to admin_hosts to allow it")
    }
    static let adminUnauthorized = ProxyFailure(status: .unauthorized, errorType: "unauthorized",
                                                message: "/_plumb/ needs Authorization: Bearer <admin_token>")

    /// A caller's text in a message: at most 200 characters, control characters escaped.
    static func shown(_ text: String) -> String {
        let cut = text.count > 200 ? String(text.prefix(200)) + "…" : text
        return String(cut.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined())
    }

    static let unauthorized = ProxyFailure(status: .unauthorized, errorType: "unauthorized",
                                           message: "this Plumb requires a client key (client_keys): send it as Plumb-Client-Key")

    static let invalidPlumbKey = ProxyFailure(status: .unauthorized, errorType: "unauthorized",
                                              message: "the Plumb key presented is not a live key (unknown, revoked or rotated): see plumb keys list")
    static let keyRequired = ProxyFailure(status: .unauthorized, errorType: "unauthorized",
                                          message: "this Plumb requires a Plumb key (control.require_key): send it as the API key or as Plumb-Client-Key")
    static func providerNotAllowed(_ key: String, _ provider: String) -> ProxyFailure {
        ProxyFailure(status: .forbidden, errorType: "provider_not_allowed",
                     message: "Plumb key '\(key)' may not call provider '\(provider)'")
    }
    static func modelNotAllowed(_ key: String, _ model: String?) -> ProxyFailure {
        ProxyFailure(status: .forbidden, errorType: "model_not_allowed",
                     message: model.map { "Plumb key '\(key)' may not use model '\(ProxyFailure.shown($0))'" }
                        ?? "Plumb key '\(key)' is limited to some models, and this request names none that Plumb can read")
    }
    static func cloudCredentialsNeedKey(_ provider: String) -> ProxyFailure {
        ProxyFailure(status: .unauthorized, errorType: "unauthorized",
                     message: "Plumb calls provider '\(provider)' with its own cloud credentials only for callers with a Plumb key, or on this machine's loopback")
    }
    static func notSigned(_ provider: String, _ path: String) -> ProxyFailure {
        ProxyFailure(status: .notFound, errorType: "operation_not_signed",
                     message: "Plumb signs only Bedrock Runtime's model calls for provider '\(provider)' (POST /model/{modelId}/converse, converse-stream, invoke or invoke-with-response-stream); '\(shown(path))' is not one")
    }
    static func tokenUnavailable(_ provider: String, _ detail: String) -> ProxyFailure {
        ProxyFailure(status: .badGateway, errorType: "token_unavailable",
                     message: "Plumb could not get an access token for provider '\(provider)' from its service account: \(detail)")
    }
    static func awsCredentialsMissing(_ provider: String) -> ProxyFailure {
        ProxyFailure(status: .forbidden, errorType: "aws_credentials_missing",
                     message: "Plumb holds no AWS credentials to sign for Bedrock provider '\(provider)': set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in Plumb's environment, name a profile with providers.\(provider).aws_profile, or send a Bedrock API key (Authorization: Bearer)")
    }
    static func providerKeyMissing(_ provider: String) -> ProxyFailure {
        ProxyFailure(status: .forbidden, errorType: "provider_key_missing",
                     message: "a Plumb key was presented, but Plumb holds no key for provider '\(provider)': set providers.\(provider).api_key_env, or send the provider's key as well and the Plumb key as Plumb-Client-Key")
    }

    func body() -> ByteBuffer {
        var w = JSONWriter()
        w.value(.object(["error": .object([
            "message": .string(message), "type": .string("plumb_error"), "code": .string(errorType), "param": .null,
        ])]))
        return ByteBuffer(bytes: w.bytes)
    }

    /// Writes the whole answer: head (with `Plumb-Span-Id` when there is a span), body, end.
    /// Not flushed: the caller records the span first, then flushes, so that a client holding
    /// the answer can look its span up at once.
    static func write(_ failure: ProxyFailure, body: ByteBuffer, spanID: String?, extra: [(String, String)] = [], keepAlive: Bool,
                      bodyless: Bool = false, to context: ChannelHandlerContext) {
        writeResponse(status: failure.status, contentType: "application/json", body: body,
                      extra: (spanID.map { [("Plumb-Span-Id", $0)] } ?? []) + extra, keepAlive: keepAlive, bodyless: bodyless,
                      flush: false, to: context)
    }

    static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}

/// A complete response from Plumb itself (errors, `/_plumb/` endpoints). `bodyless`: the answer
/// to a HEAD request, which says the body's length but carries none (RFC 9110 §9.3.2).
/// `flush: false` leaves the flush to the caller.
func writeResponse(status: HTTPResponseStatus, contentType: String, body: ByteBuffer, extra: [(String, String)] = [],
                   keepAlive: Bool, bodyless: Bool = false, flush: Bool = true, to context: ChannelHandlerContext) {
    var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.readableBytes))])
    for (n, v) in extra { headers.add(name: n, value: v) }
    if !keepAlive { headers.add(name: "Connection", value: "close") }
    context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
    if !bodyless { context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil) }
    context.write(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    if flush { context.flush() }
}
