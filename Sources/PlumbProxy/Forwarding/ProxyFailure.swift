import HTTPTypes
import Hummingbird
import PlumbCore

/// A failure Plumb answers itself, with an OpenAI-style JSON error body naming the cause
/// (`{"error":{"message":…,"type":…,"code":…}}`), and the `error_type` its span records.
///
/// ```swift
/// ProxyFailure.unknownProvider("foo").response(spanID: id)   // 404
/// ```
struct ProxyFailure: Error {
    let status: HTTPResponse.Status
    let errorType: String
    let message: String

    static func unknownProvider(_ name: String) -> ProxyFailure {
        ProxyFailure(status: .notFound, errorType: "unknown_provider",
                     message: "Plumb has no provider named '\(name)'; use /<provider>/<path> with a configured provider, or /v1/... for the default one")
    }
    static func tooLarge(limit: Int) -> ProxyFailure {
        ProxyFailure(status: .contentTooLarge, errorType: "request_too_large",
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
    static let unauthorized = ProxyFailure(status: .unauthorized, errorType: "unauthorized",
                                           message: "this Plumb requires a client key (client_keys): send it as Plumb-Client-Key")

    func body() -> ByteBuffer {
        var w = JSONWriter()
        w.value(.object(["error": .object([
            "message": .string(message), "type": .string("plumb_error"), "code": .string(errorType), "param": .null,
        ])]))
        return ByteBuffer(bytes: w.bytes)
    }

    func response(spanID: String?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let spanID { headers[ProxyHeaders.spanID] = spanID }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body()))
    }

    static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}

enum ProxyHeaders {
    static let spanID = HTTPField.Name("Plumb-Span-Id")!
}
