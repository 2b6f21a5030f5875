import Foundation

/// A Google service account's key file (`"type": "service_account"`, as the Cloud console
/// downloads it): whose key signs, the key, and the token endpoint. Read once at start; the
/// key is held in memory only.
///
/// ```swift
/// let account = try ServiceAccount(file: "/etc/plumb/vertex-sa.json")
/// let grant = try account.grantBody(nowSeconds: now)     // POST to account.tokenURI
/// ```
public struct ServiceAccount: Sendable {
    public var clientEmail: String
    public var privateKeyID: String?
    public var privateKeyPEM: String
    public var tokenURI: String
    public static let scope = "https://www.googleapis.com/auth/cloud-platform"

    public init(file path: String) throws {
        try self.init(json: try BoundedFile.read(path, limit: 64 << 10), path: path)
    }

    /// The key file's bytes (`path` names it in errors).
    public init(json data: [UInt8], path: String) throws {
        guard data.count <= 64 << 10, case .object(let o)? = try? JSONParser.parse(data) else {
            throw ServiceAccountJWT.Failure(description: "\(path) is not a service account key file (a JSON object of at most 64 KiB)")
        }
        guard o["type"]?.stringValue == "service_account" else {
            throw ServiceAccountJWT.Failure(description: "\(path): \"type\" must be \"service_account\"")
        }
        guard let email = o["client_email"]?.stringValue, let key = o["private_key"]?.stringValue else {
            throw ServiceAccountJWT.Failure(description: "\(path) needs client_email and private_key")
        }
        guard ServiceAccountJWT.isPrivateKey(key) else {
            throw ServiceAccountJWT.Failure(description: "\(path): private_key is not a PEM private key")
        }
        let uri = o["token_uri"]?.stringValue ?? "https://oauth2.googleapis.com/token"
        // The signed assertion goes there: https, or plain http on this machine only.
        let loopbackHTTP = ["http://127.", "http://localhost:", "http://localhost/", "http://[::1]"].contains { uri.hasPrefix($0) }
        guard uri.hasPrefix("https://") || loopbackHTTP, !uri.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else {
            throw ServiceAccountJWT.Failure(description: "\(path): token_uri must be an https URL (http only on loopback)")
        }
        guard !email.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }), email.utf8.count <= 256 else {
            throw ServiceAccountJWT.Failure(description: "\(path): client_email has a control character or is over 256 bytes")
        }
        clientEmail = email; privateKeyPEM = key; tokenURI = uri
        privateKeyID = o["private_key_id"]?.stringValue
    }

    /// The token request's form body: a JWT for the cloud-platform scope, good for an hour.
    public func grantBody(nowSeconds: Int64) throws -> [UInt8] {
        let jwt = try ServiceAccountJWT.sign(claims: [
            "iss": .string(clientEmail), "scope": .string(Self.scope), "aud": .string(tokenURI),
            "iat": .int(nowSeconds), "exp": .int(nowSeconds + 3600),
        ], keyID: privateKeyID, privateKeyPEM: privateKeyPEM)
        return Array("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(jwt)".utf8)
    }
}

/// Access tokens minted from a service account, kept until a minute before they expire; one
/// request at a time goes to the token endpoint, and the callers waiting meanwhile share it. A
/// refusal is remembered for `retryAfterFailure` seconds (callers then get it at once), so that a
/// broken endpoint is not asked again on every call. A token is taken only if it is a bearer
/// token of RFC 6750's characters: it becomes a request header field.
///
/// ```swift
/// let tokens = GoogleTokenSource(account)
/// tokens.token { result in … }     // on a thread of its own when a token must be minted
/// ```
public final class GoogleTokenSource: @unchecked Sendable {
    public let account: ServiceAccount
    private let lock = NSLock()
    private var cached: (token: String, expires: Int64)?
    private var waiting: [@Sendable (Result<String, Error>) -> Void] = []
    private var failed: (error: Error, until: Int64)?
    public static let retryAfterFailure: Int64 = 5
    private let client = HTTPClient(timeout: 10, connectTimeout: 5, maxResponseBytes: 64 << 10)

    public init(_ account: ServiceAccount) { self.account = account }

    /// The cached token, if it has more than a minute left.
    public func current(nowSeconds: Int64 = Int64(Date().timeIntervalSince1970)) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard let c = cached, c.expires - 60 > nowSeconds else { return nil }
        return c.token
    }

    /// Calls `done` with a token: at once when one is cached, else after the endpoint answers.
    public func token(_ done: @escaping @Sendable (Result<String, Error>) -> Void) {
        let now = Int64(Date().timeIntervalSince1970)
        lock.lock()
        // The cache, a recent refusal and the queue are read together: a caller arriving just
        // as a token lands takes it, and never starts a second request.
        if let c = cached, c.expires - 60 > now { lock.unlock(); return done(.success(c.token)) }
        if let f = failed, f.until > now { lock.unlock(); return done(.failure(f.error)) }
        waiting.append(done)
        let first = waiting.count == 1
        lock.unlock()
        guard first else { return }
        Thread.detachNewThread { [self] in
            let result = Result { try mint() }
            lock.lock()
            if case .failure(let e) = result { failed = (e, Int64(Date().timeIntervalSince1970) + Self.retryAfterFailure) } else { failed = nil }
            let callers = waiting
            waiting = []
            lock.unlock()
            for c in callers { c(result) }
        }
    }

    func mint() throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let r = try client.send(.post, account.tokenURI, headers: ["Content-Type: application/x-www-form-urlencoded"],
                                body: try account.grantBody(nowSeconds: now))
        guard r.status == 200, case .object(let o)? = try? JSONParser.parse(r.body), let token = o["access_token"]?.stringValue else {
            // What the endpoint says goes into an answer and a span: short, printable.
            let said = (try? JSONParser.parse(r.body))?["error_description"]?.stringValue ?? "HTTP \(r.status)"
            let detail = String(said.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(200).map(Character.init))
            throw ServiceAccountJWT.Failure(description: "the token endpoint refused the service account: \(detail)")
        }
        guard Self.isBearerToken(token), (o["token_type"]?.stringValue).map({ $0.lowercased() == "bearer" }) ?? true else {
            throw ServiceAccountJWT.Failure(description: "the token endpoint answered with something that is not a bearer token")
        }
        // Clamped: a year, or a negative, is not what Google sends, and must not overflow.
        let expires = now + min(max(o["expires_in"]?.intValue ?? 3600, 0), 86_400)
        lock.lock(); cached = (token, expires); lock.unlock()
        return token
    }

    /// RFC 6750 §2.1 `b64token`: `[A-Za-z0-9-._~+/]+=*`, at most 4 KiB.
    static func isBearerToken(_ t: String) -> Bool {
        let b = Array(t.utf8)
        guard !b.isEmpty, b.count <= 4096 else { return false }
        let body = b.prefix { $0 != UInt8(ascii: "=") }
        guard !body.isEmpty, b.dropFirst(body.count).allSatisfy({ $0 == UInt8(ascii: "=") }) else { return false }
        return body.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "~")
            || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "/") }
    }
}
