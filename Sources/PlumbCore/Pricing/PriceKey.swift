/// Where a call's prices are looked up: its provider's own table, or for a cloud the catalog
/// table of that cloud's prices (and its deployment type's variant). Azure OpenAI is priced
/// from the catalog's `azure` table, AI Foundry's model inference API (`/models/…`) from
/// `azure_ai`; config overrides under the provider's own name win over both.
///
/// ```swift
/// let key = PriceKey(provider: provider, endpoint: "/openai/deployments/prod/chat/completions")
/// catalog.price(key, model: "gpt-4o-2024-08-06")
/// ```
public struct PriceKey: Sendable, Hashable {
    /// The provider's name: its own table and the config's `[pricing.NAME]` overrides.
    public var provider: String
    /// The cloud's catalog table, when not the provider's own.
    public var catalog: String?
    /// The deployment type's prefix in that table (`eu`, `global`), tried before the plain name.
    public var variant: String?

    public init(provider: String, catalog: String? = nil, variant: String? = nil) {
        self.provider = provider; self.catalog = catalog; self.variant = variant
    }

    /// Where each configured provider's prices are looked up, by name (the digest's figures,
    /// which know a span's provider but not the path it took: Foundry's `/models/` spans are
    /// looked up in the `azure` table there).
    public static func byProvider(_ registry: ProviderRegistry) -> [String: PriceKey] {
        registry.providers.mapValues { PriceKey(provider: $0, endpoint: "") }
    }

    /// `endpoint` is the upstream path (without the query) the call went to.
    public init(provider: Provider, endpoint: String) {
        self.provider = provider.name
        if provider.shape == .vertex {
            catalog = "vertex"
            return
        }
        if provider.shape == .bedrock {
            // Model ids and cross-region profiles (us.anthropic.…) as named; GovCloud prices by region.
            catalog = "bedrock"
            variant = provider.region
            return
        }
        guard provider.shape == .azure else { return }
        if endpoint.hasPrefix("/models/") {
            catalog = "azure_ai"
        } else {
            catalog = "azure"
            variant = provider.priceVariant
        }
    }
}
