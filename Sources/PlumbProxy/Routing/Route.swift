import PlumbCore

/// Where a request path goes. `/<provider>/<path>` forwards to that provider; `/v1/...` to the
/// default provider (so `OPENAI_BASE_URL=http://127.0.0.1:8787/v1` works unchanged); `/_plumb/...`
/// is Plumb's own; anything else names no configured provider and is refused (never an open proxy:
/// the upstream host always comes from the registry, never from the request).
///
/// ```swift
/// Route(path: "/anthropic/v1/messages", registry: registry)   // .forward(anthropic, "/v1/messages")
/// ```
enum Route: Equatable {
    case forward(Provider, path: String)
    case admin(path: String)
    case unknownProvider(String)
    /// A dot segment, however spelled: refused before any provider sees it.
    case invalidPath

    var isForward: Bool { if case .forward = self { true } else { false } }

    init(path: String, registry: ProviderRegistry) {
        if Self.hasDotSegment(path) {
            self = .invalidPath
            return
        }
        if path == "/_plumb" || path.hasPrefix("/_plumb/") {
            self = .admin(path: String(path.dropFirst("/_plumb".count)))
            return
        }
        if path == "/v1" || path.hasPrefix("/v1/") {
            self = .forward(registry.defaultProvider, path: path)
            return
        }
        let trimmed = path.drop { $0 == "/" }
        let name = trimmed.prefix { $0 != "/" }
        guard let provider = registry[name], !name.isEmpty else {
            self = .unknownProvider(String(name))
            return
        }
        let rest = trimmed.dropFirst(name.count)
        self = .forward(provider, path: rest.isEmpty ? "/" : String(rest))
    }

    /// Whether some server on the way could read a segment of `path` as "this" or "the parent"
    /// and so climb out of a provider's base path: `.` or `..` plain or percent-encoded (`%2e`,
    /// `.%2E`), with a `;parameter` (`..;x`), or split by a backslash or an encoded slash or
    /// backslash (`a%2f..`, `..\\x`). Also refused, as no API path has them and servers differ on
    /// what they mean: a fragment (`#`), control characters however encoded (`..%09`), and the
    /// overlong UTF-8 lead bytes C0/C1 (`%c0%ae` was read as `.` by some). One decoding pass:
    /// servers decode once.
    static func hasDotSegment(_ path: String) -> Bool {
        // Most paths have none of these bytes: one pass, no allocation.
        guard path.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "\\")
                                          || $0 == UInt8(ascii: "#") || $0 < 0x20 || $0 == 0x7F }) else {
            return false
        }
        var segment: [UInt8] = []
        segment.reserveCapacity(16)
        func isDot(_ s: [UInt8]) -> Bool {
            let name = s.prefix { $0 != UInt8(ascii: ";") }
            return !name.isEmpty && name.count <= 2 && name.allSatisfy { $0 == UInt8(ascii: ".") }
        }
        let bytes = Array(path.utf8)
        var i = 0
        while i <= bytes.count {
            var b: UInt8 = UInt8(ascii: "/")
            if i < bytes.count {
                b = bytes[i]
                if b == UInt8(ascii: "#") { return true }
                if b == UInt8(ascii: "%"), i + 2 < bytes.count, let hi = Hex.nibble(bytes[i + 1]), let lo = Hex.nibble(bytes[i + 2]) {
                    b = hi << 4 | lo
                    i += 2
                }
                if b < 0x20 || b == 0x7F || b == 0xC0 || b == 0xC1 { return true }
            }
            if b == UInt8(ascii: "/") || b == UInt8(ascii: "\\") {
                if isDot(segment) { return true }
                segment.removeAll(keepingCapacity: true)
            } else {
                segment.append(b)
            }
            i += 1
        }
        return false
    }
}
