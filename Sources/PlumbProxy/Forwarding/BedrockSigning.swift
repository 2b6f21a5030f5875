import NIOCore
import NIOHTTP1
import PlumbCore

/// Bedrock requests go upstream signed by Plumb: a client pointed at Plumb signs for Plumb's
/// host with whatever key it has (a Plumb key as its access key id, or any on loopback), and
/// that signature cannot be forwarded (SigV4 covers the host). Plumb drops the caller's signing
/// fields and signs `host`, `content-type` and `x-amz-date` (and the session token) with its
/// own key, as botocore signs Bedrock Runtime calls. A Bedrock API key (`Authorization: Bearer`)
/// is not a signature: it goes on as it came.
///
/// ```swift
/// let fields = BedrockSigning.fields(caller.forwarded, signer: signer, method: "POST", path: "/model/m%3A0/converse",
///                                    query: nil, host: "bedrock-runtime.us-east-1.amazonaws.com", body: body, nowMicros: now)
/// ```
enum BedrockSigning {
    /// `AWS4-HMAC-SHA256 Credential=AKID/20251201/us-east-1/bedrock/aws4_request, …` → AKID.
    /// Key ids are ASCII letters and digits (`AKIA…`, `ASIA…`), Plumb keys add `-` and `_`: read
    /// as bytes, at most 128; anything else is no key id.
    static func accessKeyID(_ authorization: String) -> String? {
        guard authorization.hasPrefix("AWS4-HMAC-SHA256 "), let r = authorization.utf8.firstRange(of: "Credential=".utf8) else { return nil }
        let id = authorization.utf8[r.upperBound...].prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: " ") }
        guard !id.isEmpty, id.count <= 128,
              id.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    /// A caller credential that goes upstream unchanged: a Bedrock API key that is not a Plumb key.
    static func bearerKey(_ fields: [(String, String)]) -> String? {
        for (name, value) in fields where ASCIICase.equals(name.utf8, "authorization") {
            guard value.hasPrefix("Bearer ") || value.hasPrefix("bearer ") else { continue }
            let key = CallerHeaders.bearerless(value)
            return PlumbKey.isPlumbKey(key) ? nil : key
        }
        return nil
    }

    /// Bedrock Runtime's model operations, the only calls Plumb signs with its own key:
    /// `POST /model/{modelId}/converse | converse-stream | invoke | invoke-with-response-stream`.
    static func isModelCall(method: HTTPMethod, path: String) -> Bool {
        guard method == .POST, path.hasPrefix("/model/") else { return false }
        let parts = path.dropFirst("/model/".count).split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty
            && ["converse", "converse-stream", "invoke", "invoke-with-response-stream"].contains(parts[1])
    }

    /// The caller's fields without its signing ones or any other credential, and Plumb's
    /// signature. Every `Content-Type` the caller sent is signed (AWS joins repeated fields), so
    /// that no request of its making fails the signature check.
    static func fields(_ forwarded: [(String, String)], signer: SigV4, method: String, path: String, query: String?, host: String,
                       body: ByteBuffer, nowMicros: Int64) -> [(String, String)] {
        var out = forwarded.filter { !isSigningField($0.0) && !CallerHeaders.isCredential($0.0) }
        var signed: [(String, String)] = [("host", host)]
        signed += out.filter { ASCIICase.equals($0.0.utf8, "content-type") }
        let hash = body.withUnsafeReadableBytes { Hex.encode(SHA256.digest($0)) }
        out += signer.sign(method: method, path: path, query: query, headers: signed, payloadHash: hash,
                           amzDate: SigV4.amzDate(micros: nowMicros)).headers
        return out
    }

    static func isSigningField(_ name: String) -> Bool {
        let n = name.utf8
        return ASCIICase.equals(n, "authorization") || ASCIICase.equals(n, "x-amz-date") || ASCIICase.equals(n, "x-amz-security-token")
            || ASCIICase.equals(n, "x-amz-content-sha256")
    }
}
