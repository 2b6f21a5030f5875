/// Settings from the config file (TOML), the environment (`PLUMB_*`) and the command line, in
/// rising precedence: the command line wins over the environment, which wins over the file.
///
/// ```swift
/// let config = try PlumbConfig(toml: text, environment: ProcessInfo.processInfo.environment)
/// let data = config.string("data", cli: options.data) ?? "./plumb-data"
/// ```
public struct PlumbConfig: Sendable {
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// Top-level keys the file may hold; documented in `schemas/config.md`.
    public static let knownKeys: Set<String> = [
        "listen", "data", "default_provider", "providers", "retention", "body_retention", "compaction",
        "admin_token", "client_keys", "max_request_bytes", "upstream_timeout", "pricing", "digest",
        "max_body_bytes", "store_bodies", "format", "now", "incidents",
        "header_timeout", "body_timeout", "idle_timeout", "max_connections", "admin_hosts", "query_timeout",
        "query_max_result_bytes", "rejected_spans_per_second", "request_buffer_bytes",
        "export", "export_max_lag", "query", "control", "budgets", "limits", "alerts",
    ]

    public let file: [String: JSONValue]
    public let environment: [String: String]

    public init(toml: String? = nil, path: String = "config", environment: [String: String] = [:]) throws {
        var file: [String: JSONValue] = [:]
        if let toml {
            do {
                guard case .object(let o) = try TOMLParser.parse(toml) else { throw Error("\(path): not a table") }
                file = o
            } catch let e as TOMLError {
                throw Error("\(path): \(e.description)")
            }
            for k in file.keys where !Self.knownKeys.contains(k) {
                throw Error("\(path): unknown key '\(k)' (known: \(Self.knownKeys.sorted().joined(separator: ", ")))")
            }
        }
        self.file = file
        self.environment = environment
    }

    public static func environmentName(_ key: String) -> String { "PLUMB_" + key.uppercased() }

    /// The value of `key` as text: command line, else `PLUMB_<KEY>`, else the file.
    public func string(_ key: String, cli: String? = nil) throws -> String? {
        if let cli { return cli }
        if let env = environment[Self.environmentName(key)], !env.isEmpty { return env }
        switch file[key] {
        case nil: return nil
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        case .some(let v): throw Error("config key '\(key)' must be a single value, not \(v.kindName)")
        }
    }

    public func bool(_ key: String, cli: Bool? = nil) throws -> Bool? {
        guard let s = try string(key, cli: cli.map { String($0) }) else { return nil }
        switch s.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw Error("config key '\(key)' must be true or false, got '\(s)'")
        }
    }

    /// A duration such as `30d`, `12h`, `90m`, `45s` or `0` (meaning: none), in microseconds.
    public func duration(_ key: String, cli: String? = nil) throws -> Int64?? {
        guard let s = try string(key, cli: cli) else { return .none }
        guard let v = Self.parseDuration(s) else {
            throw Error("config key '\(key)': invalid duration '\(s)' (use e.g. 30d, 12h, 90m, 45s, or 0 for forever)")
        }
        return .some(v == 0 ? nil : v)
    }

    public static func parseDuration(_ s: String) -> Int64? {
        let t = s.trimmingSpaces()
        if t == "0" { return 0 }
        let units: [(String, Int64)] = [("ms", 1_000), ("s", 1_000_000), ("m", 60_000_000), ("h", 3_600_000_000),
                                        ("d", 86_400_000_000), ("w", 604_800_000_000)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            guard let n = Double(t.dropLast(suffix.count)), n >= 0, n.isFinite,
                  n * Double(scale) < 9.2e18 else { return nil }
            return Int64(n * Double(scale))
        }
        return nil
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (HTTP's and TOML's whitespace).
    public func trimmingSpaces() -> String {
        guard let f = utf8.first, let l = utf8.last, f == 0x20 || f == 0x09 || l == 0x20 || l == 0x09 else { return self }
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
