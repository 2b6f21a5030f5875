/// AWS Signature Version 4 for requests signed in the `Authorization` header, written from AWS's
/// specification ("Create a signed AWS API request", docs.aws.amazon.com/IAM/latest/UserGuide/
/// reference_sigv-create-signed-request.html) and checked against AWS's test suite and botocore
/// (Tests/PlumbCoreTests/SigV4Tests.swift). Non-S3 rules: the path is normalized (dot segments
/// and empty segments removed) and its bytes URI-encoded once more, so the `%3A` of a Bedrock
/// model id is `%253A` in the canonical request.
///
/// ```swift
/// let signer = SigV4(credentials: creds, region: "us-east-1", service: "bedrock")
/// let signed = signer.sign(method: "POST", path: "/model/m%3A0/converse", query: nil,
///                          headers: [("host", "bedrock-runtime.us-east-1.amazonaws.com")],
///                          payloadHash: SHA256.hex(body), amzDate: SigV4.amzDate(now))
/// signed.headers   // x-amz-date, x-amz-security-token (with a session token), authorization
/// ```
public struct SigV4: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public static let algorithm = "AWS4-HMAC-SHA256"

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials; self.region = region; self.service = service
    }

    /// What signing adds to a request: the fields to send (in this order) and the parts of the
    /// computation, for tests and diagnostics.
    public struct Signed: Sendable {
        public var headers: [(String, String)]
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
    }

    /// Signs `headers` (which must include `host`) with `x-amz-date` and, for temporary
    /// credentials, `x-amz-security-token` added and signed too.
    public func sign(method: String, path: String, query: String?, headers: [(String, String)], payloadHash: String,
                     amzDate: String) -> Signed {
        var added = [("X-Amz-Date", amzDate)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        let all = headers + added
        let signedNames = Self.signedHeaderNames(all)
        let canonical = Self.canonicalRequest(method: method, path: path, query: query, headers: all, signedHeaders: signedNames,
                                              payloadHash: payloadHash)
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        let toSign = Self.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical)
        let signature = Hex.encode(SHA256.hmac(key: signingKey(date: String(amzDate.prefix(8))), message: Array(toSign.utf8)))
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedNames.joined(separator: ";")), Signature=\(signature)"
        return Signed(headers: added + [("Authorization", authorization)], canonicalRequest: canonical, stringToSign: toSign,
                      signature: signature)
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    public func signingKey(date: String) -> [UInt8] {
        var k = SHA256.hmac(key: Array(("AWS4" + credentials.secretAccessKey).utf8), message: Array(date.utf8))
        for part in [region, service, "aws4_request"] { k = SHA256.hmac(key: k, message: Array(part.utf8)) }
        return k
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` of a time in microseconds since 1970 (UTC).
    public static func amzDate(micros: Int64) -> String {
        // 2025-12-01T12:00:00.000000Z → 20251201T120000Z
        let iso = Timestamp.format(micros).utf8.filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: ":") }
        return String(decoding: iso.prefix(15), as: UTF8.self) + "Z"
    }

    static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        "\(algorithm)\n\(amzDate)\n\(scope)\n\(SHA256.hex(Array(canonicalRequest.utf8)))"
    }

    /// Every header's name, lower-cased, sorted, once.
    static func signedHeaderNames(_ headers: [(String, String)]) -> [String] {
        Array(Set(headers.map { $0.0.lowercased() })).sorted()
    }

    /// The canonical request of the specification: method, canonical URI, canonical query,
    /// the signed headers as `name:value` lines, their names, and the payload's hash.
    public static func canonicalRequest(method: String, path: String, query: String?, headers: [(String, String)],
                                        signedHeaders: [String], payloadHash: String) -> String {
        var values: [String: [String]] = [:]
        for (name, value) in headers { values[name.lowercased(), default: []].append(trimmedValue(value)) }
        var lines = ""
        for name in signedHeaders { lines += name + ":" + (values[name] ?? []).joined(separator: ",") + "\n" }
        return [method, canonicalURI(path), canonicalQuery(query), lines, signedHeaders.joined(separator: ";"), payloadHash]
            .joined(separator: "\n")
    }

    /// The path without dot and empty segments, each byte outside the unreserved set and `/`
    /// encoded (a `%` already there included: AWS's services other than S3 encode twice).
    static func canonicalURI(_ path: String) -> String {
        var segments: [Substring] = []
        for s in path.split(separator: "/", omittingEmptySubsequences: true) {
            if s == "." { continue }
            if s == ".." { _ = segments.popLast(); continue }
            segments.append(s)
        }
        var out = "/" + segments.map { uriEncode($0.utf8) }.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { out += "/" }
        return out
    }

    /// Parameters sorted by encoded name then value, each name and value decoded and encoded
    /// again so that the caller's spelling of an escape does not matter.
    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = part.firstIndex(of: "=")
            let name = eq.map { part[..<$0] } ?? part
            let value = eq.map { part[part.index(after: $0)...] } ?? ""
            pairs.append((uriEncode(percentDecoded(name.utf8)), uriEncode(percentDecoded(value.utf8))))
        }
        pairs.sort { $0.0 != $1.0 ? $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) : $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Leading and trailing spaces removed, runs of spaces made one (a folded line's break too).
    static func trimmedValue(_ v: String) -> String {
        var out = [UInt8]()
        var space = false
        for b in v.utf8 {
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { space = !out.isEmpty; continue }
            if space { out.append(0x20); space = false }
            out.append(b)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func uriEncode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var out = [UInt8]()
        for b in bytes {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(b)
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func percentDecoded<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var out = [UInt8]()
        var i = bytes.startIndex
        while i != bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "%"), let h = bytes.index(i, offsetBy: 1, limitedBy: bytes.endIndex), h != bytes.endIndex,
               let l = bytes.index(h, offsetBy: 1, limitedBy: bytes.endIndex), l != bytes.endIndex,
               let hi = Hex.nibble(bytes[h]), let lo = Hex.nibble(bytes[l]) {
                out.append(hi << 4 | lo)
                i = bytes.index(after: l)
                continue
            }
            out.append(b)
            i = bytes.index(after: i)
        }
        return out
    }
}
