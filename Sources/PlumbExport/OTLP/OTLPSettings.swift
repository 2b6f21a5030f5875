import Foundation
import PlumbCore

/// The `[export.otlp]` table (schemas/config.md), with the standard `OTEL_EXPORTER_OTLP_*`
/// variables of the OpenTelemetry specification on top (the environment wins over the file, as
/// for every Plumb key). Header values may name environment variables as `${NAME}`, so that
/// tokens stay out of the file.
///
/// ```toml
/// [export.otlp]
/// endpoint = "http://collector:4318"          # /v1/traces appended
/// protocol = "http/protobuf"                  # or "http/json"
/// headers = { "x-honeycomb-team" = "${HONEYCOMB_API_KEY}" }
/// service_name = "plumb-gateway"
/// include_bodies = false
/// ```
public struct OTLPSettings: Sendable {
    public enum Encoding: String, Sendable { case protobuf = "http/protobuf", json = "http/json" }

    /// The full URL spans are POSTed to.
    public var tracesURL: String
    public var headers: [(name: String, value: String)] = []
    public var encoding: Encoding = .protobuf
    public var serviceName = "plumb"
    public var includeBodies = false
    public var gzip = true
    public var timeout = 10.0
    public var maxBatchSpans = 1_000
    /// `OTEL_RESOURCE_ATTRIBUTES`.
    public var resourceAttributes: [(String, String)] = []

    public static let keys: Set<String> = ["endpoint", "traces_endpoint", "headers", "protocol", "service_name", "include_bodies",
                                           "compression", "timeout", "max_batch_spans"]

    public init(tracesURL: String) { self.tracesURL = tracesURL }

    public init(table: [String: JSONValue], environment: [String: String]) throws {
        func fail(_ m: String) -> PlumbConfig.Error { PlumbConfig.Error("export.otlp: \(m)") }
        for k in table.keys where !Self.keys.contains(k) {
            throw fail("unknown key '\(k)' (known: \(Self.keys.sorted().joined(separator: ", ")))")
        }
        func string(_ k: String) throws -> String? {
            guard let v = table[k] else { return nil }
            guard case .string(let s) = v else { throw fail("\(k) must be a string") }
            return s
        }
        func otel(_ name: String) -> String? {
            for n in ["OTEL_EXPORTER_OTLP_TRACES_" + name, "OTEL_EXPORTER_OTLP_" + name] {
                if let v = envValue(n) { return v }
            }
            return nil
        }
        func envValue(_ n: String) -> String? { environment[n].flatMap { $0.trimmingSpaces().isEmpty ? nil : $0.trimmingSpaces() } }

        // Endpoint: a signal-specific URL is used as it is; a base gets /v1/traces (OTLP exporter spec).
        if let u = envValue("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") { tracesURL = u }
        else if let u = envValue("OTEL_EXPORTER_OTLP_ENDPOINT") { tracesURL = Self.appendingTracesPath(u) }
        else if let u = try string("traces_endpoint") { tracesURL = u }
        else if let u = try string("endpoint") { tracesURL = Self.appendingTracesPath(u) }
        else { throw fail("needs endpoint (e.g. \"http://collector:4318\") or OTEL_EXPORTER_OTLP_ENDPOINT") }
        guard tracesURL.hasPrefix("http://") || tracesURL.hasPrefix("https://"), tracesURL.count > 8, !tracesURL.contains(where: \.isWhitespace) else {
            throw fail("endpoint '\(tracesURL)' must be an http:// or https:// URL")
        }

        if let p = try otel("PROTOCOL") ?? string("protocol") {
            guard let e = Encoding(rawValue: p) else {
                throw fail("protocol must be \"http/protobuf\" or \"http/json\" (got '\(p)'; gRPC is not supported)")
            }
            encoding = e
        }
        if let c = try otel("COMPRESSION") ?? string("compression") {
            switch c.lowercased() {
            case "gzip": gzip = true
            case "none": gzip = false
            default: throw fail("compression must be gzip or none (got '\(c)')")
            }
        }
        if let t = otel("TIMEOUT") {
            guard let ms = Double(t), ms > 0 else { throw fail("OTEL_EXPORTER_OTLP_TIMEOUT must be milliseconds (got '\(t)')") }
            timeout = ms / 1000
        } else if let t = table["timeout"] {
            guard let s = t.doubleValue, s > 0, s <= 600 else { throw fail("timeout must be seconds, more than 0 and at most 600") }
            timeout = s
        }
        if let n = table["max_batch_spans"] {
            guard case .int(let i) = n, i >= 1, i <= 100_000 else { throw fail("max_batch_spans must be 1 to 100000") }
            maxBatchSpans = Int(i)
        }
        if let b = table["include_bodies"] {
            guard case .bool(let v) = b else { throw fail("include_bodies must be true or false") }
            includeBodies = v
        }
        serviceName = try environment["OTEL_SERVICE_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? string("service_name") ?? "plumb"

        switch table["headers"] {
        case nil: break
        case .object(let o)?:
            for name in o.keys.sorted() {
                guard case .string(let raw) = o[name]! else { throw fail("headers.\(name) must be a string") }
                headers.append((name, try Self.expand(raw, environment: environment, what: "headers.\(name)")))
            }
        default: throw fail("headers must be a table, e.g. headers = { \"x-api-key\" = \"${COLLECTOR_KEY}\" }")
        }
        if let h = otel("HEADERS") {
            for (name, value) in try Self.keyValueList(h, what: "OTEL_EXPORTER_OTLP_HEADERS") {
                headers.removeAll { $0.name.lowercased() == name.lowercased() }
                headers.append((name, value))
            }
        }
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }),
                  !value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) else {
                throw fail("header '\(name)' has a character a header cannot carry")
            }
        }
        if let r = environment["OTEL_RESOURCE_ATTRIBUTES"], !r.isEmpty {
            resourceAttributes = try Self.keyValueList(r, what: "OTEL_RESOURCE_ATTRIBUTES")
        }
    }

    /// `http://host:4318` → `http://host:4318/v1/traces`; a path prefix is kept.
    static func appendingTracesPath(_ base: String) -> String {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        return b + "/v1/traces"
    }

    /// `${NAME}` replaced by the variable's value; an unset variable is an error (a header sent
    /// empty would fail later, further from its cause).
    static func expand(_ raw: String, environment: [String: String], what: String) throws -> String {
        var out = ""
        var rest = Substring(raw)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                throw PlumbConfig.Error("export.otlp: \(what): '${' without a closing '}'")
            }
            let name = String(rest[open.upperBound..<close])
            guard let value = environment[name] else {
                throw PlumbConfig.Error("export.otlp: \(what) names the environment variable \(name), which is not set")
            }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// The W3C Baggage-like list the OTEL_* variables use: `k1=v1,k2=v2`, values percent-encoded.
    static func keyValueList(_ s: String, what: String) throws -> [(String, String)] {
        try s.split(separator: ",").compactMap { item in
            let t = item.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { return nil }
            guard let eq = t.firstIndex(of: "=") else { throw PlumbConfig.Error("\(what): '\(t)' is not key=value") }
            let key = t[..<eq].trimmingCharacters(in: .whitespaces)
            let value = t[t.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            return (key, value.removingPercentEncoding ?? value)
        }
    }
}
