import Foundation
import PlumbCore

/// Everything `plumb serve` is configured with (config file, `PLUMB_*` environment, flags).
///
/// ```swift
/// let settings = try ProxySettings(config: config, listen: "127.0.0.1:8787", prices: catalog)
/// ```
public struct ProxySettings: Sendable {
    public var listen: ListenAddress
    public var registry: ProviderRegistry
    public var prices: PriceCatalog
    /// Required for `/_plumb/` when listening beyond loopback.
    public var adminToken: String?
    /// When set, callers must present one of these as `Plumb-Client-Key` (only beyond loopback).
    public var clientKeys: [String]
    public var maxRequestBytes: Int
    public var upstreamTimeoutSeconds: Double
    /// Bodies are stored up to this many bytes each way; the rest is cut (and marked truncated).
    public var maxStoredBodyBytes: Int
    public var storeBodies: Bool

    public static let defaultListen = "127.0.0.1:8787"

    public init(listen: ListenAddress = try! ListenAddress(defaultListen), registry: ProviderRegistry,
                prices: PriceCatalog = PriceCatalog(), adminToken: String? = nil, clientKeys: [String] = [],
                maxRequestBytes: Int = 32 << 20, upstreamTimeoutSeconds: Double = 600,
                maxStoredBodyBytes: Int = 1 << 20, storeBodies: Bool = true) {
        self.listen = listen; self.registry = registry; self.prices = prices; self.adminToken = adminToken
        self.clientKeys = clientKeys; self.maxRequestBytes = maxRequestBytes
        self.upstreamTimeoutSeconds = upstreamTimeoutSeconds; self.maxStoredBodyBytes = maxStoredBodyBytes
        self.storeBodies = storeBodies
    }

    /// Reads the proxy's keys from `config` (see schemas/config.md); `listen` is the flag, if given.
    public init(config: PlumbConfig, listen: String?, prices: PriceCatalog) throws {
        let address = try ListenAddress(try config.string("listen", cli: listen) ?? Self.defaultListen)
        var overrides: [String: JSONValue] = [:]
        if let p = config.file["providers"] {
            guard case .object(let o) = p else { throw PlumbConfig.Error("config key 'providers' must be a table of [providers.NAME] tables") }
            overrides = o
        }
        let registry = try ProviderRegistry(overrides: overrides, defaultProvider: try config.string("default_provider") ?? "openai")
        let prices = try prices.overridden(by: config)
        let token = try config.string("admin_token").flatMap { $0.isEmpty ? nil : $0 }
        guard address.isLoopback || token != nil else {
            throw PlumbConfig.Error("listening on \(address.host) (beyond loopback) requires admin_token, so that /_plumb/ is not open to the network")
        }
        var keys: [String] = []
        if let env = config.environment[PlumbConfig.environmentName("client_keys")], !env.isEmpty {
            keys = env.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else if let v = config.file["client_keys"] {
            guard case .array(let a) = v, let strings = Optional(a.compactMap(\.stringValue)), strings.count == a.count else {
                throw PlumbConfig.Error("config key 'client_keys' must be a list of strings")
            }
            keys = strings
        }
        self.init(listen: address, registry: registry, prices: prices, adminToken: token, clientKeys: keys,
                  maxRequestBytes: try config.positiveInt("max_request_bytes") ?? 32 << 20,
                  upstreamTimeoutSeconds: try config.duration("upstream_timeout").map { Double($0 ?? 600_000_000) / 1e6 } ?? 600,
                  maxStoredBodyBytes: try config.positiveInt("max_body_bytes") ?? 1 << 20,
                  storeBodies: try config.bool("store_bodies") ?? true)
    }
}

extension PlumbConfig {
    /// A positive integer key (`max_request_bytes = 1048576`).
    func positiveInt(_ key: String) throws -> Int? {
        guard let s = try string(key) else { return nil }
        guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v > 0 else {
            throw PlumbConfig.Error("config key '\(key)' must be a positive whole number of bytes, got '\(s)'")
        }
        return v
    }
}
