import PlumbCore

/// The calls a budget or a limit applies to: every call, or those of one Plumb key, key
/// fingerprint, user, property value, provider or model (a glob: `gpt-4o*`).
///
/// ```toml
/// scope = { property = "team", value = "search" }   # or { key = "search-team" }, { user = "u1" },
///                                                  # { provider = "openai" }, { model = "gpt-4o*" },
///                                                  # { api_key_hash = "…" }, "all"
/// ```
enum PolicyScope: Sendable, Equatable, CustomStringConvertible {
    case all
    case key(String)
    case apiKeyHash(String)
    case user(String)
    case property(name: String, value: String)
    case provider(String)
    case model(String)

    func matches(_ c: CallIdentity) -> Bool {
        switch self {
        case .all: true
        case .key(let k): c.keyName == k
        case .apiKeyHash(let h): c.apiKeyHash == h
        case .user(let u): c.userID == u
        case .property(let n, let v): c.properties[n] == v
        case .provider(let p): c.provider == p
        case .model(let glob): c.model.map { Glob.matches(glob, $0) } ?? false
        }
    }

    var description: String {
        switch self {
        case .all: "all calls"
        case .key(let k): "key '\(k)'"
        case .apiKeyHash(let h): "api_key_hash \(h)"
        case .user(let u): "user '\(u)'"
        case .property(let n, let v): "property \(n) = '\(v)'"
        case .provider(let p): "provider '\(p)'"
        case .model(let m): "model '\(m)'"
        }
    }

    /// The span column (in Plumb's SQL) whose value tells whether a span is in the scope.
    var column: String {
        switch self {
        case .all: "'all'"
        case .key: "properties['\(CallIdentity.keyProperty)']"
        case .apiKeyHash: "api_key_hash"
        case .user: "user_id"
        case .property(let n, _): "properties['\(n)']"
        case .provider: "provider"
        case .model: "model_requested"
        }
    }

    /// Whether a span whose `column` holds `value` is in the scope.
    func matches(columnValue value: String?) -> Bool {
        switch self {
        case .all: true
        case .key(let s), .apiKeyHash(let s), .user(let s), .provider(let s), .property(_, let s): value == s
        case .model(let glob): value.map { Glob.matches(glob, $0) } ?? false
        }
    }

    /// Reads `scope` from a `[[budgets]]` or `[[limits]]` table; `at` names it in errors.
    static func parse(_ value: JSONValue?, at: String) throws -> PolicyScope {
        guard let value else { throw PlumbConfig.Error("\(at): scope is required (\"all\", or a table such as { key = \"search-team\" })") }
        if case .string(let s) = value, s == "all" { return .all }
        guard case .object(let t) = value, !t.isEmpty else {
            throw PlumbConfig.Error("\(at).scope must be \"all\" or a table: { key = … }, { api_key_hash = … }, { user = … }, { property = …, value = … }, { provider = … } or { model = … }")
        }
        func text(_ k: String) throws -> String {
            guard case .string(let s)? = t[k], !s.isEmpty, s.utf8.count <= 1024 else {
                throw PlumbConfig.Error("\(at).scope.\(k) must be a non-empty string of at most 1024 bytes")
            }
            return s
        }
        let kinds = t.keys.filter { $0 != "value" }
        guard kinds.count == 1, let kind = kinds.first else {
            throw PlumbConfig.Error("\(at).scope must name one of key, api_key_hash, user, property, provider, model (got \(t.keys.sorted().joined(separator: ", ")))")
        }
        if kind != "property", t["value"] != nil { throw PlumbConfig.Error("\(at).scope.value goes only with property") }
        switch kind {
        case "key": return .key(try text("key"))
        case "api_key_hash": return .apiKeyHash(try text("api_key_hash").lowercased())
        case "user": return .user(try text("user"))
        case "provider": return .provider(try text("provider"))
        case "model": return .model(try text("model"))
        case "property":
            let name = try text("property").lowercased()
            // It is written into a query (see `column`): a name is letters, digits, '-' and '_'.
            guard name.utf8.count <= CallerHeaders.maxPropertyNameBytes,
                  name.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }) else {
                throw PlumbConfig.Error("\(at).scope.property must be a property name (letters, digits, '-' and '_'), got '\(name)'")
            }
            guard t["value"] != nil else { throw PlumbConfig.Error("\(at).scope: property needs a value ({ property = \"team\", value = \"search\" })") }
            return .property(name: name, value: try text("value"))
        default:
            throw PlumbConfig.Error("\(at).scope: unknown kind '\(kind)' (known: key, api_key_hash, user, property, provider, model)")
        }
    }
}

/// `*` matches any run of characters (none included); everything else matches itself.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] != UInt8(ascii: "*") && p[pi] == t[ti] { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == UInt8(ascii: "*") { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

extension CallIdentity {
    /// The property Plumb sets to the name of the Plumb key a call presented (a caller's own
    /// header of that name is dropped, so that it cannot claim a key's spend).
    static let keyProperty = "plumb_key"
}
