import NIOHTTP1
import PlumbCore

/// What the caller's headers tell Plumb, and the headers forwarded upstream.
///
/// Read and stripped: `Plumb-*` and their Helicone aliases (`Helicone-Session-Id`,
/// `Helicone-User-Id`, `Helicone-Property-<Name>`), and W3C `traceparent`. Hop-by-hop headers,
/// `Host` and `Content-Length` are the client's business and are set anew. `Accept-Encoding` is
/// dropped so that the upstream answers uncompressed and Plumb can read usage as it streams.
///
/// ```swift
/// let caller = CallerHeaders(request.headers)
/// caller.userID; caller.properties["team"]; caller.forwarded
/// ```
struct CallerHeaders {
    var sessionID: String?
    var userID: String?
    var properties: [String: String] = [:]
    var omitBodies = false
    var traceID: String?
    var parentSpanID: String?
    /// The credential presented to the upstream (Authorization bearer, x-api-key or x-goog-api-key).
    var apiKey: String?
    /// The first credential header holding something shaped like a Plumb key, whichever it is.
    var plumbKey: String?
    var forwarded: [(String, String)] = []

    /// Bounds on what a caller may attach to a span: they are stored with it, and indexed.
    static let maxIDBytes = 256
    static let maxProperties = 64
    static let maxPropertyNameBytes = 64
    static let maxPropertyValueBytes = 1024

    /// The first attribution header over its bound, described for a 400; nil when all fit.
    var oversized: String? {
        if let s = userID, s.utf8.count > Self.maxIDBytes { return "Plumb-User-Id is over \(Self.maxIDBytes) bytes" }
        if let s = sessionID, s.utf8.count > Self.maxIDBytes { return "Plumb-Session-Id is over \(Self.maxIDBytes) bytes" }
        if properties.count > Self.maxProperties { return "more than \(Self.maxProperties) Plumb-Property-* headers" }
        for (k, v) in properties {
            if k.utf8.count > Self.maxPropertyNameBytes { return "a Plumb-Property-* name is over \(Self.maxPropertyNameBytes) bytes" }
            if v.utf8.count > Self.maxPropertyValueBytes { return "Plumb-Property-\(k) is over \(Self.maxPropertyValueBytes) bytes" }
        }
        return nil
    }

    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding", "expect",
    ]

    /// A header that carries a provider credential.
    static func isCredential(_ name: String) -> Bool {
        let n = name.utf8
        return ASCIICase.equals(n, "authorization") || ASCIICase.equals(n, "x-api-key") || ASCIICase.equals(n, "x-goog-api-key")
            || ASCIICase.equals(n, "api-key")
    }

    /// Drops credential headers that hold a Plumb key (never forwarded); true when the caller
    /// still sends a credential of its own.
    mutating func dropPlumbKeys() -> Bool {
        forwarded.removeAll { Self.isCredential($0.0) && (PlumbKey.isPlumbKey(Self.bearerless($0.1))
                                                         || BedrockSigning.accessKeyID($0.1).map(PlumbKey.isPlumbKey) == true) }
        return forwarded.contains { Self.isCredential($0.0) }
    }

    static func bearerless(_ value: String) -> String {
        (value.hasPrefix("Bearer ") || value.hasPrefix("bearer ") ? String(value.dropFirst(7)) : value).trimmingSpaces()
    }

    /// For a call that presented a Plumb key: the caller's credentials are not forwarded, and
    /// Plumb's own key for the provider goes in the header its API reads.
    mutating func useProviderKey(_ key: String, shape: APIShape) {
        forwarded.removeAll { Self.isCredential($0.0) }
        switch shape {
        case .anthropic: forwarded.append(("x-api-key", key))
        case .gemini: forwarded.append(("x-goog-api-key", key))
        case .azure: forwarded.append(("api-key", key))
        case .bedrock: forwarded.append(("Authorization", "Bearer " + key))   // a Bedrock API key
        case .openai, .passthrough, .vertex: forwarded.append(("Authorization", "Bearer " + key))
        }
    }

    /// `hopByHop.contains(name.lowercased())`, without the copy: the names by length, then compared.
    static func isHopByHop(_ name: String) -> Bool {
        let n = name.utf8
        switch n.count {
        case 2: return ASCIICase.equals(n, "te")
        case 4: return ASCIICase.equals(n, "host")
        case 6: return ASCIICase.equals(n, "expect")
        case 7: return ASCIICase.equals(n, "trailer") || ASCIICase.equals(n, "upgrade")
        case 10: return ASCIICase.equals(n, "connection") || ASCIICase.equals(n, "keep-alive")
        case 14: return ASCIICase.equals(n, "content-length")
        case 15: return ASCIICase.equals(n, "accept-encoding")
        case 16: return ASCIICase.equals(n, "proxy-connection")
        case 17: return ASCIICase.equals(n, "transfer-encoding")
        case 18: return ASCIICase.equals(n, "proxy-authenticate")
        case 19: return ASCIICase.equals(n, "proxy-authorization")
        default: return false
        }
    }

    init(_ headers: HTTPHeaders) {
        // Helicone's aliases are read after the loop: a Plumb-* header says the same and wins.
        var aliases: [(name: String, raw: String, value: String)] = []
        defer { for a in aliases { read(a.name.dropFirst("helicone-".count), a.raw, a.value, replacing: false) } }
        for (rawName, value) in headers {
            // Names are compared in place, in any case; only Plumb's own are lowered (they are few).
            let name = rawName.utf8
            if ASCIICase.hasPrefix(name, "plumb-") {
                read(rawName.lowercased().dropFirst("plumb-".count), rawName, value, replacing: true)
                continue
            }
            if ASCIICase.hasPrefix(name, "helicone-") {
                aliases.append((rawName.lowercased(), rawName, value))
                continue
            }
            if ASCIICase.equals(name, "traceparent") { traceparent(value); continue }
            if Self.isHopByHop(rawName) { continue }
            if ASCIICase.equals(name, "authorization"), let accessKey = BedrockSigning.accessKeyID(value) {
                // SigV4 for Plumb's host (boto3 pointed at Plumb): the access key id is who asked
                // (a Plumb key there is one); the signature is replaced on the way out.
                apiKey = apiKey ?? accessKey
                if PlumbKey.isPlumbKey(accessKey) { plumbKey = plumbKey ?? accessKey }
            } else if ASCIICase.equals(name, "authorization") {
                let v = value.hasPrefix("Bearer ") || value.hasPrefix("bearer ") ? String(value.dropFirst(7)) : value
                apiKey = apiKey ?? v.trimmingSpaces()
                if PlumbKey.isPlumbKey(v.trimmingSpaces()) { plumbKey = plumbKey ?? v.trimmingSpaces() }
            } else if ASCIICase.equals(name, "x-api-key") || ASCIICase.equals(name, "x-goog-api-key") || ASCIICase.equals(name, "api-key") {
                apiKey = apiKey ?? value
                if PlumbKey.isPlumbKey(value.trimmingSpaces()) { plumbKey = plumbKey ?? value.trimmingSpaces() }
            }
            forwarded.append((rawName, value))
        }
    }

    /// `rest` is the header name after `plumb-`/`helicone-`, lower case; `raw` keeps the caller's case.
    private mutating func read(_ rest: Substring, _ raw: String, _ value: String, replacing: Bool) {
        switch rest {
        case "session-id": if replacing || sessionID == nil { sessionID = value }
        case "user-id": if replacing || userID == nil { userID = value }
        case "omit-bodies": omitBodies = ["true", "1", "yes", "on"].contains(value.lowercased())
        default:
            if rest.hasPrefix("property-") {
                // The property name as the caller spelled it (after the prefix), lower-cased so
                // that HTTP's case-insensitivity cannot split one property in two.
                let key = raw.split(separator: "-", maxSplits: 2).last.map { String($0).lowercased() } ?? ""
                if !key.isEmpty && (replacing || properties[key] == nil) { properties[key] = value }
            }
        }
    }

    /// `traceparent: 00-<32 hex trace id>-<16 hex parent id>-<flags>` (W3C Trace Context).
    private mutating func traceparent(_ value: String) {
        let parts = value.trimmingSpaces().split(separator: "-")
        guard parts.count >= 4, parts[1].count == 32, parts[2].count == 16,
              parts[1].allSatisfy(\.isHexDigit), parts[2].allSatisfy(\.isHexDigit),
              parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" }) else { return }
        traceID = parts[1].lowercased()
        parentSpanID = parts[2].lowercased()
    }
}
