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
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServiceAccountJWT.Failure(description: "\(path) cannot be read")
        }
        guard data.count <= 64 << 10, case .object(let o)? = try? JSONParser.parse(Array(data)) else {
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
        guard uri.hasPrefix("https://") || uri.hasPrefix("http://") else {
            throw ServiceAccountJWT.Failure(description: "\(path): token_uri must be an http(s) URL")
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
/// request at a time goes to the token endpoint, and the callers waiting meanwhile share it.
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
        if let t = current() { return done(.success(t)) }
        lock.lock()
        waiting.append(done)
        let first = waiting.count == 1
        lock.unlock()
        guard first else { return }
        Thread.detachNewThread { [self] in
            let result = Result { try mint() }
            lock.lock()
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
        guard r.status == 200, case .object(let o)? = try? JSONParser.parse(r.body), let token = o["access_token"]?.stringValue, !token.isEmpty else {
            let detail = (try? JSONParser.parse(r.body))?["error_description"]?.stringValue ?? "HTTP \(r.status)"
            throw ServiceAccountJWT.Failure(description: "the token endpoint refused \(account.clientEmail): \(detail)")
        }
        let expires = now + (o["expires_in"]?.intValue ?? 3600)
        lock.lock(); cached = (token, expires); lock.unlock()
        return token
    }
}
