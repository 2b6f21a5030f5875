import Foundation
/// `HOST:PORT` to listen on (`127.0.0.1:8787`, `[::1]:8787`, `0.0.0.0:80`).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(_ text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        var host: Substring, port: Substring
        if t.hasPrefix("["), let close = t.firstIndex(of: "]") {
            host = t[t.index(after: t.startIndex)..<close]
            let rest = t[t.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ProxySetupError("listen address '\(text)': expected [IPv6]:PORT") }
            port = rest.dropFirst()
        } else {
            guard let colon = t.lastIndex(of: ":") else { throw ProxySetupError("listen address '\(text)': expected HOST:PORT, e.g. 127.0.0.1:8787") }
            host = t[..<colon]
            port = t[t.index(after: colon)...]
        }
        guard !host.isEmpty, let p = Int(port), (0...65535).contains(p) else {
            throw ProxySetupError("listen address '\(text)': expected HOST:PORT with a port from 0 to 65535")
        }
        self.host = String(host)
        self.port = p
        isLoopback = LoopbackAddress.isLoopback(host: self.host)
    }

    /// Only this machine can connect: an IP literal in 127.0.0.0/8 or ::1, or `localhost` when
    /// it resolves to nothing else. Decided once, when the address is read.
    public let isLoopback: Bool
    /// Any address of the machine (`0.0.0.0`, `::`).
    public var isWildcard: Bool { LoopbackAddress.bytes(ofLiteral: host).map { $0.allSatisfy { $0 == 0 } } ?? false }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
