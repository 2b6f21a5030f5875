import Foundation
import HTTPTypes
import PlumbCore

/// Google Vertex AI, served under `/vertex` (point google-genai's `base_url`, AnthropicVertex's
/// `base_url` + `/v1`, or a provider's `base_url` at `http://HOST:PORT/vertex`). Wire format from
/// Google's references (docs/design/clouds.md §4): `/v1[beta1]/projects/{p}/locations/{l}/
/// publishers/google/models/{m}:generateContent | :streamGenerateContent` (SSE with `?alt=sse`,
/// else one JSON array) in Gemini's shape, and `…/publishers/anthropic/models/{m}:rawPredict |
/// :streamRawPredict` in Anthropic's (the body with `anthropic_version` and no `model`). Every call needs `Authorization: Bearer` with a token the
/// mock knows (`ya29.mock-vertex-token`, or one its token endpoint minted), else Google's 401.
/// `POST /vertex/token` is Google's OAuth token endpoint for service accounts (a JWT bearer
/// grant, RS256, checked against `--google-public-key`).
struct VertexMock {
    static let prefix = "/vertex"
    static let staticToken = "ya29.mock-vertex-token"

    /// The request, with `path` after the `/vertex` prefix.
    let call: MockRequest
    let tokens: VertexTokens

    func respond() -> MockReply {
        if call.path == "/token" { return tokens.grant(call.body) }
        if call.path == "/_grants" { return .json(.object(["grants": .int(Int64(tokens.grants))])) }
        let bearer = call.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let bearer, bearer == Self.staticToken || tokens.isLive(bearer) else {
            return Self.error(401, "UNAUTHENTICATED",
                              "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
        }
        let parts = call.path.split(separator: "/")
        // v1 | v1beta1, projects, P, locations, L, publishers, google | anthropic, models, M:op
        guard parts.count == 9, parts[0] == "v1" || parts[0] == "v1beta1", parts[1] == "projects", parts[3] == "locations",
              parts[5] == "publishers", parts[7] == "models", let colon = parts[8].lastIndex(of: ":") else {
            return Self.error(404, "NOT_FOUND", "The requested URL was not found on this server.")
        }
        let model = String(parts[8][..<colon]), op = parts[8][parts[8].index(after: colon)...]
        switch (parts[6], op) {
        case ("google", "generateContent"), ("google", "streamGenerateContent"):
            return GeminiMock(request: call.json, c: call.controls, model: model, serial: call.serial)
                .generate(stream: op == "streamGenerateContent", sse: call.query.split(separator: "&").contains("alt=sse"))
        case ("anthropic", "rawPredict"), ("anthropic", "streamRawPredict"):
            // Vertex takes the model from the call.path; the body names the API version instead.
            guard call.json["anthropic_version"]?.stringValue?.isEmpty == false, call.json["model"] == nil else {
                return Self.error(400, "INVALID_ARGUMENT", "anthropic_version is required, and model is not allowed in the body")
            }
            var asked = call.json
            asked["model"] = .string(model)
            asked["stream"] = .bool(op == "streamRawPredict")
            return AnthropicMock(request: asked, c: call.controls, serial: call.serial, cache: call.cache).messages()
        default:
            return Self.error(404, "NOT_FOUND", "Publisher model `\(parts[8])` was not found or your project does not have access to it.")
        }
    }

    /// Google's error body: `{"error": {"code", "message", "status"}}`.
    static func error(_ code: Int, _ status: String, _ message: String) -> MockReply {
        .json(.object(["error": .object(["code": .int(Int64(code)), "message": .string(message), "status": .string(status)])]),
              status: HTTPResponse.Status(code: code))
    }
}

/// The access tokens the mock's OAuth endpoint minted (each good for an hour), and the grant:
/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT`, the JWT signed RS256
/// by the service account's key, for the cloud-platform scope and this endpoint as audience.
final class VertexTokens: @unchecked Sendable {
    private let lock = NSLock()
    private var live: Set<String> = []
    private var minted = 0
    let publicKeyPEM: String?

    init(publicKeyPEM: String?) { self.publicKeyPEM = publicKeyPEM }

    func isLive(_ token: String) -> Bool { lock.lock(); defer { lock.unlock() }; return live.contains(token) }

    var grants: Int { lock.lock(); defer { lock.unlock() }; return minted }

    func grant(_ body: [UInt8]) -> MockReply {
        var form: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { form[String(kv[0])] = String(kv[1]).removingPercentEncoding }
        }
        func refuse(_ error: String, _ description: String) -> MockReply {
            .json(.object(["error": .string(error), "error_description": .string(description)]), status: .badRequest)
        }
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = form["assertion"] else {
            return refuse("unsupported_grant_type", "Invalid grant_type")
        }
        guard let key = publicKeyPEM, let claims = ServiceAccountJWT.verify(assertion, publicKeyPEM: key) else {
            return refuse("invalid_grant", "Invalid JWT Signature.")
        }
        let now = Int64(Date().timeIntervalSince1970)
        guard let exp = claims["exp"]?.intValue, let iat = claims["iat"]?.intValue, exp > now, iat <= now + 60, exp - iat <= 3600 else {
            return refuse("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        }
        guard claims["iss"]?.stringValue?.hasSuffix(".iam.gserviceaccount.com") == true,
              claims["aud"]?.stringValue?.hasSuffix("/vertex/token") == true else {
            return refuse("invalid_grant", "Invalid JWT: iss must be a service account and aud this token endpoint.")
        }
        guard claims["scope"]?.stringValue?.contains("https://www.googleapis.com/auth/cloud-platform") == true else {
            return refuse("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        }
        lock.lock()
        minted += 1
        let token = "ya29.minted-\(minted)-\(UUID().uuidString)"
        live.insert(token)
        lock.unlock()
        return .json(.object(["access_token": .string(token), "expires_in": .int(3599), "token_type": .string("Bearer")]))
    }
}
