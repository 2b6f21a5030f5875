#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Whether an address is this machine's loopback (127.0.0.0/8, ::1, or ::ffff:127.x.y.z), decided
/// on the address's bytes rather than its spelling (`127.corp.example` is a name, not an address).
///
/// ```swift
/// LoopbackAddress.isLoopback(host: "127.0.0.1")         // true
/// LoopbackAddress.isLoopback(host: "127.corp.example")  // false (a name that is not "localhost")
/// LoopbackAddress.isLoopback(channel.remoteAddress)     // a client on this machine's loopback
/// ```
enum LoopbackAddress {
    /// The bytes of an IPv4 (4) or IPv6 (16) literal; nil when `host` is not one.
    static func bytes(ofLiteral host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func isLoopback(bytes b: [UInt8]) -> Bool {
        switch b.count {
        case 4: return b[0] == 127
        case 16:
            if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }                     // ::1
            return b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF && b[12] == 127   // ::ffff:127.x
        default: return false
        }
    }

    /// An IP literal is judged by its bytes; `localhost` only if every address it resolves to
    /// is loopback; any other name is not loopback (it may resolve anywhere, and change).
    static func isLoopback(host: String) -> Bool {
        if let b = bytes(ofLiteral: host) { return isLoopback(bytes: b) }
        guard host.lowercased() == "localhost" else { return false }
        let addresses = resolve(host)
        return !addresses.isEmpty && addresses.allSatisfy(isLoopback(bytes:))
    }

    /// A peer's address (nil, or a Unix socket: not a loopback IP).
    static func isLoopback(_ address: SocketAddress?) -> Bool {
        // From the socket address's own bytes: its text form costs inet_ntop, a String and
        // inet_pton back, on every accepted connection.
        switch address {
        case .v4(let a)?:
            var sin = a.address.sin_addr
            return withUnsafeBytes(of: &sin) { $0[0] == 127 }
        case .v6(let a)?:
            var sin6 = a.address.sin6_addr
            return isLoopback(bytes: withUnsafeBytes(of: &sin6) { Array($0) })
        default:
            return false
        }
    }

    /// Every address `name` resolves to (getaddrinfo), as bytes.
    static func resolve(_ name: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var out: [[UInt8]] = []
        var p = list
        while let ai = p {
            if let sa = ai.pointee.ai_addr {
                switch ai.pointee.ai_family {
                case AF_INET:
                    var a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    out.append(withUnsafeBytes(of: &a) { Array($0) })
                case AF_INET6:
                    var a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    out.append(withUnsafeBytes(of: &a) { Array($0) })
                default: break
                }
            }
            p = ai.pointee.ai_next
        }
        return out
    }
}
