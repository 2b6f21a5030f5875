#!/usr/bin/env python3
"""Generates schemas/pricing.json from LiteLLM's model price catalog.

    tools/gen_pricing.py [--catalog ../shared/data/litellm-model-prices.json] [--out schemas/pricing.json]

Prices are facts taken from the catalog (LiteLLM 1.109.1, MIT licence); nothing is invented:
* only token-priced models are kept (input_cost_per_token and output_cost_per_token both present);
* each is filed under the Plumb provider whose API serves it (litellm_provider → provider below),
  with the catalog's "provider/" prefix removed from the name (gemini/gemini-2.5-flash → gemini-2.5-flash);
* Azure's deployment-type variants keep their prefix (azure/eu/gpt-4o → "azure": "eu/gpt-4o");
* a dated name (gpt-4o-2024-08-06) is priced only when the catalog lists that exact name: Plumb
  never strips a date to reach the base model, so an unknown model stays unpriced (cost null).
Cost = (input - cache_read - cache_write) * input + cache_read * cache_read_price
       + cache_write * cache_write_price + output * output; a missing cache price is the input price.
"""
import argparse, json, os, sys

# Plumb provider -> the litellm_provider values whose prices apply to it.
PROVIDERS = {
    "openai": ["openai", "text-completion-openai"],
    "anthropic": ["anthropic"],
    "gemini": ["gemini"],
    "mistral": ["mistral"],
    "groq": ["groq"],
    "together": ["together_ai"],
    "openrouter": ["openrouter"],
    "deepseek": ["deepseek"],
    "fireworks": ["fireworks_ai"],
    "xai": ["xai"],
    "ollama": ["ollama"],
    # Azure OpenAI (api = "azure"): the deployment-type variants stay prefixed ("eu/gpt-4o",
    # "global/gpt-4o-2024-08-06"), chosen by a provider's price_variant. AI Foundry's model
    # inference API (/models/...) is priced from azure_ai.
    "azure": ["azure", "azure_text"],
    "azure_ai": ["azure_ai"],
    # AWS Bedrock (api = "bedrock"): model ids and inference profiles (us.anthropic.…) as the URL
    # names them; region-specific prices (GovCloud) keep their region prefix, chosen by a
    # provider's region.
    "bedrock": ["bedrock", "bedrock_converse"],
    # Google Vertex AI (api = "vertex"): Gemini and the partner models (Claude, Llama, Mistral, …),
    # named as the path names them (gemini-2.5-flash, claude-sonnet-4-5@20250929).
    "vertex": ["vertex_ai", "vertex_ai-language-models", "vertex_ai-anthropic_models", "vertex_ai-mistral_models",
               "vertex_ai-llama_models", "vertex_ai-embedding-models", "vertex_ai-ai21_models", "vertex_ai-deepseek_models",
               "vertex_ai-qwen_models", "vertex_ai-zai_models", "vertex_ai-openai_models", "vertex_ai-text-models",
               "vertex_ai-minimax_models", "vertex_ai-moonshot_models"],
}

# Catalog name prefixes that are not the litellm_provider value ("vertex_ai/claude-…").
NAME_PREFIXES = {"vertex": "vertex_ai/"}

# Catalog tables whose "variant/model" names are kept (see PriceCatalog.price(_:model:)).
KEEPS_VARIANTS = {"azure", "bedrock"}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", default=os.path.join(here, "..", "..", "shared", "data", "litellm-model-prices.json"))
    ap.add_argument("--out", default=os.path.join(here, "..", "schemas", "pricing.json"))
    args = ap.parse_args()
    with open(args.catalog) as f:
        catalog = json.load(f)
    owner = {lp: p for p, lps in PROVIDERS.items() for lp in lps}
    out = {p: {} for p in PROVIDERS}
    for name, entry in sorted(catalog.items()):
        if not isinstance(entry, dict):
            continue
        provider = owner.get(entry.get("litellm_provider"))
        if provider is None:
            continue
        inp, outp = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
        if not isinstance(inp, (int, float)) or not isinstance(outp, (int, float)):
            continue
        model = name.split("/", 1)[1] if name.startswith(entry["litellm_provider"] + "/") else name
        if provider in NAME_PREFIXES and model.startswith(NAME_PREFIXES[provider]):
            model = model[len(NAME_PREFIXES[provider]):]
        if "/" in model and provider not in ("openrouter", "together", "fireworks") and provider not in KEEPS_VARIANTS:
            continue   # region- or route-specific variants (e.g. "us/..."): not what a response names
        price = {"input": inp, "output": outp}
        for key, field in (("cache_read", "cache_read_input_token_cost"), ("cache_write", "cache_creation_input_token_cost")):
            if isinstance(entry.get(field), (int, float)):
                price[key] = entry[field]
        # A prefixed and an unprefixed entry may name the same model; the provider's own
        # (prefixed) entry wins, as it is the one LiteLLM uses for that provider.
        if model in out[provider] and not name.startswith((entry["litellm_provider"] + "/", NAME_PREFIXES.get(provider, "\0"))):
            continue
        out[provider][model] = price
    doc = {
        "about": "Per-token prices in USD, by Plumb provider and model. Generated by tools/gen_pricing.py "
                 "from LiteLLM 1.109.1's model_prices_and_context_window_backup.json; do not edit by hand.",
        "providers": {p: out[p] for p in PROVIDERS if out[p]},
    }
    with open(args.out, "w") as f:
        f.write("{\n")
        f.write(f' "about": {json.dumps(doc["about"])},\n "providers": {{\n')
        provs = list(doc["providers"].items())
        for i, (p, models) in enumerate(provs):
            f.write(f'  {json.dumps(p)}: {{\n')
            items = list(models.items())
            for j, (m, price) in enumerate(items):
                f.write(f'   {json.dumps(m)}: {json.dumps(price, separators=(",", ":"))}{"," if j < len(items) - 1 else ""}\n')
            f.write(f'  }}{"," if i < len(provs) - 1 else ""}\n')
        f.write(" }\n}\n")
    n = sum(len(m) for m in doc["providers"].values())
    print(f"wrote {args.out}: {n} models over {len(doc['providers'])} providers", file=sys.stderr)


if __name__ == "__main__":
    main()
