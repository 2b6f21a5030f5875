/// An upstream Plumb forwards to: `/<name>/<path>` goes to `<baseURL>/<path>`.
///
/// ```swift
/// let p = Provider(name: "local", baseURL: "http://127.0.0.1:11434", shape: .openai)
/// p.upstreamURL(path: "/v1/chat/completions", query: nil)  // http://127.0.0.1:11434/v1/chat/completions
/// ```
public struct Provider: Sendable, Equatable {
    public var name: String
    /// Scheme, host, optional port and optional path prefix, without a trailing slash.
    public var baseURL: String
    public var shape: APIShape
    /// A built-in provider on this machine (ollama): only loopback clients may reach it, unless
    /// the config file names it, since a network client could otherwise call any local service.
    public var localOnly: Bool
    /// The environment variable holding Plumb's own key for this provider (`api_key_env`):
    /// callers that present a Plumb key get it in their place. Only the name is configured; the
    /// secret is read from the environment at start and never written anywhere.
    public var apiKeyEnv: String?
    /// For Azure: which of the catalog's deployment-type prices apply (`global`, the data zones
    /// `eu`/`us`/…); nil is a standard (regional) deployment.
    public var priceVariant: String?
    /// For Bedrock: the AWS region requests are signed for, and the profile of the shared
    /// credentials file whose key signs them (nil: the environment's, else `[default]`).
    public var region: String?
    public var awsProfile: String?
    /// For Vertex AI: a service account's key file Plumb mints its access tokens from (nil: the
    /// caller's own OAuth token goes on).
    public var serviceAccountFile: String?

    /// The deployment types LiteLLM's catalog prices apart for Azure OpenAI (`azure/eu/gpt-4o`).
    public static let azurePriceVariants: Set<String> = ["global", "global-standard", "eu", "us", "apac", "us-gov"]

    public init(name: String, baseURL: String, shape: APIShape, localOnly: Bool = false, apiKeyEnv: String? = nil,
                priceVariant: String? = nil) {
        self.name = name
        self.priceVariant = priceVariant
        self.localOnly = localOnly
        self.apiKeyEnv = apiKeyEnv
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.shape = shape
    }

    /// `us-east-1`, `eu-central-2`, `us-gov-west-1`: lower-case letters, digits and dashes.
    public static func isRegionName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 32 && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }

    /// The region of `https://bedrock-runtime[-fips].REGION.amazonaws.com`.
    public static func bedrockRegion(fromBaseURL url: String) -> String? {
        let host = url.split(separator: "/").dropFirst().first.map { $0.prefix { $0 != ":" } } ?? ""
        let parts = host.split(separator: ".")
        guard parts.count >= 4, parts[0].hasPrefix("bedrock-runtime"), parts.suffix(2).joined(separator: ".") == "amazonaws.com" else { return nil }
        let region = String(parts[1])
        return isRegionName(region) ? region : nil
    }

    public func upstreamURL(path: String, query: String?) -> String {
        let p = path.hasPrefix("/") ? path : "/" + path
        guard let query, !query.isEmpty else { return baseURL + p }
        return baseURL + p + "?" + query
    }

    /// The providers Plumb knows without configuration (DESIGN.md, "The proxy").
    public static let builtIn: [Provider] = [
        Provider(name: "openai", baseURL: "https://api.openai.com", shape: .openai),
        Provider(name: "anthropic", baseURL: "https://api.anthropic.com", shape: .anthropic),
        Provider(name: "gemini", baseURL: "https://generativelanguage.googleapis.com", shape: .gemini),
        Provider(name: "mistral", baseURL: "https://api.mistral.ai", shape: .openai),
        Provider(name: "groq", baseURL: "https://api.groq.com/openai", shape: .openai),
        Provider(name: "together", baseURL: "https://api.together.xyz", shape: .openai),
        Provider(name: "openrouter", baseURL: "https://openrouter.ai/api", shape: .openai),
        Provider(name: "deepseek", baseURL: "https://api.deepseek.com", shape: .openai),
        Provider(name: "fireworks", baseURL: "https://api.fireworks.ai/inference", shape: .openai),
        Provider(name: "xai", baseURL: "https://api.x.ai", shape: .openai),
        Provider(name: "ollama", baseURL: "http://127.0.0.1:11434", shape: .openai, localOnly: true),
    ]
}
