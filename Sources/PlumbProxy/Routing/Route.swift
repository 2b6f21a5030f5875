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

    init(path: String, registry: ProviderRegistry) {
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
        // A dot segment must not climb out of the provider's base path.
        if rest.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) {
            self = .unknownProvider(String(name) + String(rest))
            return
        }
        self = .forward(provider, path: rest.isEmpty ? "/" : String(rest))
    }
}
