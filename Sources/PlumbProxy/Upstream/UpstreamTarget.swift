/// Where a provider's connections go: scheme, host and port of its base URL, plus the path
/// prefix that every forwarded path is appended to.
///
/// ```swift
/// let t = UpstreamTarget(baseURL: "https://api.groq.com/openai")!
/// (t.tls, t.host, t.port, t.pathPrefix)     // (true, "api.groq.com", 443, "/openai")
/// ```
struct UpstreamTarget: Hashable, Sendable {
    let tls: Bool
    let host: String
    let port: Int
    let pathPrefix: String
    /// The `Host` header: the host, with the port when it is not the scheme's default. Made
    /// once: built per call it cost a Foundation string search and two allocations.
    let hostHeader: String

    init?(baseURL: String) {
        let tls: Bool
        var rest: Substring
        if baseURL.hasPrefix("https://") { tls = true; rest = baseURL.dropFirst(8) }
        else if baseURL.hasPrefix("http://") { tls = false; rest = baseURL.dropFirst(7) }
        else { return nil }
        let authority = rest.prefix { $0 != "/" }
        rest = rest.dropFirst(authority.count)
        var host = Substring(authority), port = tls ? 443 : 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        }
        // A host name or IP literal only: it goes into the Host header unchecked.
        guard !host.isEmpty, (1...65535).contains(port),
              host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "@") })
        else { return nil }
        self.tls = tls
        self.host = String(host)
        self.port = port
        var prefix = String(rest)
        while prefix.hasSuffix("/") { prefix.removeLast() }
        pathPrefix = prefix
        let bracketed = self.host.utf8.contains(UInt8(ascii: ":")) ? "[\(self.host)]" : self.host
        hostHeader = port == (tls ? 443 : 80) ? bracketed : "\(bracketed):\(port)"
    }

    /// An IP literal cannot be sent as a TLS server name (SNI).
    var hostIsIPAddress: Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }
}
