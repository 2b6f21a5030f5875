import CCrypto
import Foundation

/// The JWT a Google service account signs to get an access token (RFC 7523 JWT bearer grant,
/// Google's "Using OAuth 2.0 for Server to Server Applications"): header `{"alg":"RS256",
/// "typ":"JWT","kid":…}`, claims `iss`, `scope`, `aud` (the token endpoint), `iat`, `exp`,
/// signed RSASSA-PKCS1-v1_5 with SHA-256 by libcrypto.
///
/// ```swift
/// let jwt = try ServiceAccountJWT.sign(claims: ["iss": .string(email), …], keyID: id, privateKeyPEM: pem)
/// ServiceAccountJWT.verify(jwt, publicKeyPEM: publicPEM)?["iss"]
/// ```
public enum ServiceAccountJWT {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func sign(claims: [String: JSONValue], keyID: String?, privateKeyPEM: String) throws -> String {
        var header: [String: JSONValue] = ["alg": .string("RS256"), "typ": .string("JWT")]
        if let keyID { header["kid"] = .string(keyID) }
        let input = base64URL(json(.object(header))) + "." + base64URL(json(.object(claims)))
        guard let key = privateKey(privateKeyPEM) else { throw Failure(description: "the private_key is not a PEM RSA private key") }
        defer { EVP_PKEY_free(key) }
        let ctx = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(ctx) }
        let message = Array(input.utf8)
        var length = 0
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key) == 1,
              EVP_DigestSign(ctx, nil, &length, message, message.count) == 1 else { throw Failure(description: "RS256 signing failed") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(ctx, &signature, &length, message, message.count) == 1 else { throw Failure(description: "RS256 signing failed") }
        return input + "." + base64URL(Array(signature.prefix(length)))
    }

    /// The claims of an RS256 JWT whose signature `publicKeyPEM` (SubjectPublicKeyInfo) verifies.
    public static func verify(_ jwt: String, publicKeyPEM: String) -> [String: JSONValue]? {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, jwt.utf8.count <= 16 << 10, let headerBytes = fromBase64URL(parts[0]),
              (try? JSONParser.parse(headerBytes))?["alg"]?.stringValue == "RS256",
              let claimBytes = fromBase64URL(parts[1]), case .object(let claims)? = try? JSONParser.parse(claimBytes),
              let signature = fromBase64URL(parts[2]) else { return nil }
        guard let key = withPEM(publicKeyPEM, { PEM_read_bio_PUBKEY($0, nil, nil, nil) }) else { return nil }
        defer { EVP_PKEY_free(key) }
        let ctx = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(ctx) }
        let message = Array((parts[0] + "." + parts[1]).utf8)
        guard EVP_DigestVerifyInit(ctx, nil, EVP_sha256(), nil, key) == 1,
              EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1 else { return nil }
        return claims
    }

    /// Whether `pem` holds a private key libcrypto can sign with.
    public static func isPrivateKey(_ pem: String) -> Bool {
        guard let key = privateKey(pem) else { return false }
        EVP_PKEY_free(key)
        return true
    }

    static func privateKey(_ pem: String) -> OpaquePointer? {
        // No pass phrase: an encrypted key is refused, never prompted for on the terminal.
        withPEM(pem) { PEM_read_bio_PrivateKey($0, nil, { _, _, _, _ in 0 }, nil) }
    }

    /// A memory BIO over `pem` for `read`: BIO_new_mem_buf does not copy, so the bytes must
    /// outlive the read (a String passed straight in is a temporary that does not).
    static func withPEM(_ pem: String, _ read: (OpaquePointer?) -> OpaquePointer?) -> OpaquePointer? {
        var bytes = Array(pem.utf8)
        return bytes.withUnsafeMutableBytes { buffer in
            let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count))
            defer { BIO_free(bio) }
            return read(bio)
        }
    }

    static func json(_ v: JSONValue) -> [UInt8] {
        var w = JSONWriter()
        w.value(v)
        return w.bytes
    }

    public static func base64URL(_ bytes: [UInt8]) -> String {
        String(Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .prefix { $0 != "=" })
    }

    static func fromBase64URL(_ s: Substring) -> [UInt8]? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.utf8.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t).map(Array.init)
    }
}
