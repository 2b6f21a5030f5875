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
    /// Client connections: the request head must be complete within `headerTimeout` of its
    /// first byte (or of the connection, or the last response); a body must keep arriving (no gap
    /// over `bodyTimeout`); a kept-alive connection with no request is closed after `idleTimeout`.
    public var headerTimeout: Double = 10
    public var bodyTimeout: Double = 30
    public var idleTimeout: Double = 60
    /// Client connections open at once; more are closed as they are accepted.
    public var maxConnections = 8192
    /// Request bodies held in memory at once, over every connection (received, waiting, or
    /// being forwarded); a body that would go past it is refused with 503 `server_busy`.
    public var requestBufferBytes = 256 << 20
    /// Host names (besides IP literals, `localhost` and the listen host) that `/_plumb/` answers
    /// to: a browser page on another name (DNS rebinding) is refused.
    public var adminHosts: [String] = []
    /// `/_plumb/query`: the longest a query may run, and the most bytes of result it may send.
    public var queryTimeout: Double = 30
    public var queryMaxResultBytes = 64 << 20
    /// Refused calls (unknown provider, bad path, unauthorised) stored as spans per second at
    /// most; the rest are only counted, so that refusals cannot fill the disk.
    public var rejectedSpansPerSecond = 50
    /// Plumb keys, budgets and rate limits (`[control]`, `[[budgets]]`, `[[limits]]`).
    public var control = ControlSettings()
    /// Bedrock providers' signers, by provider name: the AWS key Plumb re-signs their requests
    /// with (held in memory only). A Bedrock provider without one forwards only requests that
    /// carry a Bedrock API key (`Authorization: Bearer`).
    public var awsSigners: [String: SigV4] = [:]
    /// Vertex AI providers with a service account: the access tokens Plumb sends in place of the
    /// caller's credentials.
    public var googleTokens: [String: GoogleTokenSource] = [:]

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
        let registry = try ProviderRegistry(config: config)
        let prices = try prices.overridden(by: config)
        let token = try config.string("admin_token").flatMap { $0.isEmpty ? nil : $0 }
        guard address.isLoopback || token != nil else {
            throw PlumbConfig.Error("listening on \(address.host) (beyond loopback) requires admin_token, so that /_plumb/ is not open to the network")
        }
        var keys: [String] = []
        if let env = config.environment[PlumbConfig.environmentName("client_keys")], !env.isEmpty {
            keys = env.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        } else if config.file["client_keys"] != nil {
            keys = try config.stringList("client_keys")
        }
        // An empty key would match a request that sends none.
        if let empty = keys.firstIndex(where: { $0.isEmpty }) {
            throw PlumbConfig.Error("config key 'client_keys': key \(empty + 1) is empty (an empty key would let in requests that send none)")
        }
        self.init(listen: address, registry: registry, prices: prices, adminToken: token, clientKeys: keys,
                  maxRequestBytes: try config.positiveInt("max_request_bytes") ?? 32 << 20,
                  upstreamTimeoutSeconds: try config.duration("upstream_timeout").map { Double($0 ?? 600_000_000) / 1e6 } ?? 600,
                  maxStoredBodyBytes: try config.positiveInt("max_body_bytes") ?? 1 << 20,
                  storeBodies: try config.bool("store_bodies") ?? true)
        if let t = try config.seconds("header_timeout") { headerTimeout = t }
        if let t = try config.seconds("body_timeout") { bodyTimeout = t }
        if let t = try config.seconds("idle_timeout") { idleTimeout = t }
        if let t = try config.seconds("query_timeout") { queryTimeout = t }
        if let n = try config.positiveInt("max_connections") { maxConnections = n }
        if let n = try config.positiveInt("request_buffer_bytes") { requestBufferBytes = n }
        if let n = try config.positiveInt("query_max_result_bytes") { queryMaxResultBytes = n }
        if let n = try config.positiveInt("rejected_spans_per_second") { rejectedSpansPerSecond = n }
        control = try ControlSettings(config: config, registry: registry)
        for (name, p) in registry.providers where p.shape == .bedrock {
            do {
                let creds = try AWSCredentials.load(profile: p.awsProfile, environment: config.environment)
                awsSigners[name] = SigV4(credentials: creds, region: p.region ?? "us-east-1", service: "bedrock")
            } catch {
                // A named profile must load; without one, a key is optional (Bedrock API keys).
                if p.awsProfile != nil { throw PlumbConfig.Error("providers.\(name).aws_profile: \(error)") }
            }
        }
        for (name, p) in registry.providers {
            guard let file = p.serviceAccountFile else { continue }
            do { googleTokens[name] = GoogleTokenSource(try ServiceAccount(file: file)) } catch {
                throw PlumbConfig.Error("providers.\(name).service_account_file: \(error)")
            }
        }
        if config.file["admin_hosts"] != nil || config.environment[PlumbConfig.environmentName("admin_hosts")] != nil {
            adminHosts = try config.stringList("admin_hosts").map { $0.lowercased() }
        }
    }
}

extension PlumbConfig {
    /// A list of strings from the file, or comma-separated from `PLUMB_<KEY>`.
    func stringList(_ key: String) throws -> [String] {
        if let env = environment[Self.environmentName(key)], !env.isEmpty {
            return env.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        }
        guard let v = file[key] else { return [] }
        guard case .array(let a) = v, case let strings = a.compactMap(\.stringValue), strings.count == a.count else {
            throw PlumbConfig.Error("config key '\(key)' must be a list of strings")
        }
        return strings
    }

    /// A positive duration in seconds (`header_timeout = "10s"`); `0` is refused: a limit that
    /// is off is how a server gets tied up.
    func seconds(_ key: String) throws -> Double? {
        guard let v = try duration(key) else { return nil }
        guard let micros = v else { throw PlumbConfig.Error("config key '\(key)' must be a duration above 0, such as 10s") }
        return Double(micros) / 1e6
    }

    /// A positive integer key (`max_request_bytes = 1048576`).
    func positiveInt(_ key: String) throws -> Int? {
        guard let s = try string(key) else { return nil }
        guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v > 0 else {
            throw PlumbConfig.Error("config key '\(key)' must be a positive whole number, got '\(s)'")
        }
        return v
    }
}
