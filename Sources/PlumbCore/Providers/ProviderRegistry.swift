/// The configured providers: the built-ins, overridden or extended by the `[providers.NAME]`
/// tables of the config file. Plumb forwards only to these.
///
/// ```swift
/// let registry = try ProviderRegistry(config: config)
/// registry["openai"]?.baseURL
/// ```
public struct ProviderRegistry: Sendable {
    public private(set) var providers: [String: Provider]
    public let defaultProvider: Provider

    public init(overrides: [String: JSONValue] = [:], defaultProvider: String = "openai") throws {
        var all: [String: Provider] = [:]
        for p in Provider.builtIn { all[p.name] = p }
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            guard Self.isValidName(name) else {
                throw PlumbConfig.Error("providers.\(name): a provider name is letters, digits, '-' and '_' (it is the first path segment)")
            }
            guard case .object(let table) = value else {
                throw PlumbConfig.Error("providers.\(name) must be a table with base_url and api")
            }
            for key in table.keys where !["base_url", "api", "api_key_env", "price_variant", "region", "aws_profile",
                                                 "service_account_file"].contains(key) {
                throw PlumbConfig.Error("providers.\(name): unknown key '\(key)' (known: api, api_key_env, aws_profile, base_url, price_variant, region, service_account_file)")
            }
            let existing = all[name]
            var keyEnv: String?
            if let v = table["api_key_env"] {
                guard case .string(let s) = v, !s.isEmpty, s.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || $0.isASCIIAlphanumeric }) else {
                    throw PlumbConfig.Error("providers.\(name).api_key_env must name an environment variable (letters, digits and '_'), such as \"OPENAI_API_KEY\"")
                }
                keyEnv = s
            }
            var url = existing?.baseURL
            if let v = table["base_url"] {
                guard case .string(let s) = v else { throw PlumbConfig.Error("providers.\(name).base_url must be a string") }
                url = s
            }
            guard let url else { throw PlumbConfig.Error("providers.\(name): base_url is required for a provider that is not built in") }
            // It becomes the request line and the Host header: a CR, LF, space or other control
            // byte there would let the file write headers of its own.
            if let bad = url.utf8.firstIndex(where: { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "?") }) {
                let offset = url.utf8.distance(from: url.utf8.startIndex, to: bad)
                throw PlumbConfig.Error("providers.\(name).base_url has \(Self.describe(url.utf8[bad])) at byte \(offset + 1) (\(url.debugDescription)): a base URL is scheme, host, port and path in visible ASCII, without a query or fragment")
            }
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.split(separator: "/").count >= 2 else {
                throw PlumbConfig.Error("providers.\(name).base_url must be an http:// or https:// URL, got '\(url)'")
            }
            var shape = existing?.shape ?? .openai
            if let v = table["api"] {
                guard case .string(let s) = v, let parsed = APIShape(rawValue: s) else {
                    throw PlumbConfig.Error("providers.\(name).api must be one of \(APIShape.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                shape = parsed
            }
            var variant: String?
            if let v = table["price_variant"] {
                guard shape == .azure else {
                    throw PlumbConfig.Error("providers.\(name).price_variant applies to api = \"azure\" only (its deployment type)")
                }
                guard case .string(let s) = v, Provider.azurePriceVariants.contains(s) else {
                    throw PlumbConfig.Error("providers.\(name).price_variant must be one of \(Provider.azurePriceVariants.sorted().joined(separator: ", ")) (the catalog's Azure deployment types; leave it out for a standard, regional deployment)")
                }
                variant = s
            }
            var provider = Provider(name: name, baseURL: url, shape: shape, apiKeyEnv: keyEnv, priceVariant: variant)
            for key in ["region", "aws_profile"] where table[key] != nil && shape != .bedrock {
                throw PlumbConfig.Error("providers.\(name).\(key) applies to api = \"bedrock\" only")
            }
            if shape == .bedrock {
                if let v = table["region"] {
                    guard case .string(let s) = v, Provider.isRegionName(s) else {
                        throw PlumbConfig.Error("providers.\(name).region must be an AWS region name such as \"us-east-1\"")
                    }
                    provider.region = s
                } else {
                    provider.region = Provider.bedrockRegion(fromBaseURL: url)
                }
                guard provider.region != nil else {
                    throw PlumbConfig.Error("providers.\(name): region is required (the base URL is not https://bedrock-runtime.REGION.amazonaws.com)")
                }
                if let v = table["aws_profile"] {
                    guard case .string(let s) = v, !s.isEmpty else { throw PlumbConfig.Error("providers.\(name).aws_profile must name a profile of the AWS credentials file") }
                    provider.awsProfile = s
                }
            }
            if let v = table["service_account_file"] {
                guard shape == .vertex else { throw PlumbConfig.Error("providers.\(name).service_account_file applies to api = \"vertex\" only") }
                guard case .string(let s) = v, !s.isEmpty else { throw PlumbConfig.Error("providers.\(name).service_account_file must be a path") }
                provider.serviceAccountFile = s
            }
            all[name] = provider
        }
        guard let def = all[defaultProvider] else {
            throw PlumbConfig.Error("default_provider '\(defaultProvider)' is not a configured provider (known: \(all.keys.sorted().joined(separator: ", ")))")
        }
        self.providers = all
        self.defaultProvider = def
    }

    /// The config file's `[providers.NAME]` tables and `default_provider`.
    public init(config: PlumbConfig) throws {
        var overrides: [String: JSONValue] = [:]
        if let p = config.file["providers"] {
            guard case .object(let o) = p else { throw PlumbConfig.Error("config key 'providers' must be a table of [providers.NAME] tables") }
            overrides = o
        }
        try self.init(overrides: overrides, defaultProvider: try config.string("default_provider") ?? "openai")
    }

    public subscript(name: Substring) -> Provider? { providers[String(name)] }
    public subscript(name: String) -> Provider? { providers[name] }

    static func describe(_ byte: UInt8) -> String {
        switch byte {
        case 0x0D: "a carriage return (CR)"
        case 0x0A: "a line feed (LF)"
        case 0x20: "a space"
        case 0x23: "'#'"
        case 0x3F: "'?'"
        case 0x7F...: "a non-ASCII byte"
        default: "a control character"
        }
    }

    static func isValidName(_ s: String) -> Bool {
        !s.isEmpty && s != "v1" && s != "_plumb" && s.utf8.allSatisfy {
            $0.isASCIIAlphanumeric || $0 == 0x2D || $0 == 0x5F
        }
    }
}
