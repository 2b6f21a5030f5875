/// Spans as JSON objects in span schema v1: the `plumb import` line format and the JSON output form.
///
/// ```swift
/// let span = try Span(json: JSONParser.parse(line))
/// let line = span.jsonLine()          // {"span_id":"…","ts_start":"2026-…Z",…}
/// ```
public struct SpanDecodingError: Error, Sendable, CustomStringConvertible, Equatable {
    public let field: String?
    public let message: String
    public var description: String { field.map { "column '\($0)': \(message)" } ?? message }
}

extension Span {
    public init(json: JSONValue) throws {
        guard case .object(let o) = json else {
            throw SpanDecodingError(field: nil, message: "expected a JSON object, got \(json.kindName)")
        }
        var slots = [JSONValue?](repeating: nil, count: SpanSchema.columns.count)
        for (key, value) in o {
            guard let index = SpanSchema.index(of: key) else {
                throw SpanDecodingError(field: key, message: "unknown column (not in span schema v1)")
            }
            slots[index] = value
        }
        try self.init(slots: slots)
    }

    /// Decodes one line straight from its UTF-8 bytes, without an intermediate dictionary
    /// (the `plumb import` path; several times faster than parsing then `init(json:)`).
    public init(jsonBytes bytes: UnsafeBufferPointer<UInt8>) throws {
        let first = bytes.firstIndex { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }
        guard let first, bytes[first] == UInt8(ascii: "{") else {
            try self.init(json: JSONParser.parse(bytes: bytes))   // not an object: the general path's error
            return
        }
        let (slots, unknown) = try JSONParser.parseObject(bytes: bytes, slotCount: SpanSchema.columns.count,
                                                         slot: SpanSchema.index(ofKeyBytes:))
        if let unknown { throw SpanDecodingError(field: unknown, message: "unknown column (not in span schema v1)") }
        try self.init(slots: slots)
    }

    init(slots: [JSONValue?]) throws {
        let r = FieldReader(slots: slots)
        let tsStart = try r.timestamp("ts_start")!
        let tsEnd = try r.timestamp("ts_end", optional: true) ?? tsStart
        guard tsEnd >= tsStart else { throw SpanDecodingError(field: "ts_end", message: "is before ts_start") }
        let latency = try r.double("latency_ms", optional: true) ?? Double(tsEnd - tsStart) / 1000
        self.init(
            spanID: try r.hexID("span_id", lengths: [32])!,
            traceID: try r.hexID("trace_id", lengths: [32], optional: true),
            parentSpanID: try r.hexID("parent_span_id", lengths: [16, 32], optional: true),
            sessionID: try r.string("session_id", optional: true),
            userID: try r.string("user_id", optional: true),
            tsStart: tsStart, tsEnd: tsEnd, latencyMs: latency,
            ttftMs: try r.double("ttft_ms", optional: true),
            upstreamMs: try r.double("upstream_ms", optional: true) ?? latency,
            provider: try r.string("provider")!,
            modelRequested: try r.string("model_requested", optional: true),
            model: try r.string("model", optional: true),
            operation: try r.string("operation", optional: true) ?? "other",
            endpoint: try r.string("endpoint", optional: true) ?? "",
            method: try r.string("method", optional: true) ?? "POST",
            stream: try r.bool("stream", optional: true) ?? false,
            status: try r.int("status")!,
            errorType: try r.string("error_type", optional: true),
            finishReason: try r.string("finish_reason", optional: true),
            inputTokens: try r.int("input_tokens", optional: true),
            outputTokens: try r.int("output_tokens", optional: true),
            cacheReadTokens: try r.int("cache_read_tokens", optional: true),
            cacheWriteTokens: try r.int("cache_write_tokens", optional: true),
            reasoningTokens: try r.int("reasoning_tokens", optional: true),
            costUSD: try r.double("cost_usd", optional: true),
            requestBytes: try r.int("request_bytes", optional: true) ?? 0,
            responseBytes: try r.int("response_bytes", optional: true) ?? 0,
            apiKeyHash: try r.hexID("api_key_hash", lengths: [16], optional: true),
            properties: try r.properties("properties"),
            requestBody: try r.string("request_body", optional: true),
            responseBody: try r.string("response_body", optional: true)
        )
    }

    /// The span as one JSON object (keys in schema order, timestamps as ISO 8601 UTC, nulls omitted
    /// unless `includeNulls`).
    public func jsonLine(includeNulls: Bool = false, includeBodies: Bool = true) -> String {
        var w = JSONWriter()
        w.raw("{")
        var first = true
        func key(_ k: String) {
            if !first { w.raw(",") }
            first = false
            w.string(k); w.raw(":")
        }
        func str(_ k: String, _ v: String?) {
            if let v { key(k); w.string(v) } else if includeNulls { key(k); w.null() }
        }
        func int(_ k: String, _ v: Int64?) {
            if let v { key(k); w.int(v) } else if includeNulls { key(k); w.null() }
        }
        func dbl(_ k: String, _ v: Double?) {
            if let v { key(k); w.double(v) } else if includeNulls { key(k); w.null() }
        }
        str("span_id", spanID); str("trace_id", traceID); str("parent_span_id", parentSpanID)
        str("session_id", sessionID); str("user_id", userID)
        str("ts_start", Timestamp.format(tsStart)); str("ts_end", Timestamp.format(tsEnd))
        dbl("latency_ms", latencyMs); dbl("ttft_ms", ttftMs); dbl("upstream_ms", upstreamMs)
        str("provider", provider); str("model_requested", modelRequested); str("model", model)
        str("operation", operation); str("endpoint", endpoint); str("method", method)
        key("stream"); w.bool(stream)
        int("status", status); str("error_type", errorType); str("finish_reason", finishReason)
        int("input_tokens", inputTokens); int("output_tokens", outputTokens)
        int("cache_read_tokens", cacheReadTokens); int("cache_write_tokens", cacheWriteTokens)
        int("reasoning_tokens", reasoningTokens); dbl("cost_usd", costUSD)
        int("request_bytes", requestBytes); int("response_bytes", responseBytes)
        str("api_key_hash", apiKeyHash)
        key("properties")
        w.value(.object(properties.mapValues { .string($0) }))
        if includeBodies { str("request_body", requestBody); str("response_body", responseBody) }
        w.raw("}")
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

/// Reads typed fields out of a span JSON object, naming the field in every error.
private struct FieldReader {
    let slots: [JSONValue?]

    init(slots: [JSONValue?]) { self.slots = slots }

    subscript(name: String) -> JSONValue? { slots[SpanSchema.index(of: name)!] }

    private func present(_ name: String, optional: Bool) throws -> JSONValue? {
        guard let v = self[name], !v.isNull else {
            if optional { return nil }
            throw SpanDecodingError(field: name, message: "is required")
        }
        return v
    }

    func string(_ name: String, optional: Bool = false) throws -> String? {
        guard let v = try present(name, optional: optional) else { return nil }
        guard let s = v.stringValue else { throw SpanDecodingError(field: name, message: "expected a string, got \(v.kindName)") }
        return s
    }

    func hexID(_ name: String, lengths: Set<Int>, optional: Bool = false) throws -> String? {
        guard let s = try string(name, optional: optional) else { return nil }
        let lower = s.lowercased()
        guard lengths.contains(lower.utf8.count), lower.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            let want = lengths.sorted().map(String.init).joined(separator: " or ")
            throw SpanDecodingError(field: name, message: "expected \(want) hex digits, got '\(s)'")
        }
        return lower
    }

    func int(_ name: String, optional: Bool = false) throws -> Int64? {
        guard let v = try present(name, optional: optional) else { return nil }
        guard let i = v.intValue else { throw SpanDecodingError(field: name, message: "expected an integer, got \(describe(v))") }
        return i
    }

    func double(_ name: String, optional: Bool = false) throws -> Double? {
        guard let v = try present(name, optional: optional) else { return nil }
        guard let d = v.doubleValue else { throw SpanDecodingError(field: name, message: "expected a number, got \(describe(v))") }
        return d
    }

    func bool(_ name: String, optional: Bool = false) throws -> Bool? {
        guard let v = try present(name, optional: optional) else { return nil }
        guard let b = v.boolValue else { throw SpanDecodingError(field: name, message: "expected true or false, got \(describe(v))") }
        return b
    }

    /// ISO 8601 text, or an integer count of microseconds since the epoch.
    func timestamp(_ name: String, optional: Bool = false) throws -> Int64? {
        guard let v = try present(name, optional: optional) else { return nil }
        if case .int(let micros) = v { return micros }
        guard let s = v.stringValue else {
            throw SpanDecodingError(field: name, message: "expected an ISO 8601 string or integer microseconds, got \(describe(v))")
        }
        do { return try Timestamp.parse(s) } catch { throw SpanDecodingError(field: name, message: "\(error)") }
    }

    func properties(_ name: String) throws -> [String: String] {
        guard let v = self[name], !v.isNull else { return [:] }
        guard case .object(let o) = v else {
            throw SpanDecodingError(field: name, message: "expected an object of strings, got \(v.kindName)")
        }
        var out: [String: String] = [:]
        for (k, item) in o {
            guard let s = item.stringValue else {
                throw SpanDecodingError(field: name, message: "property '\(k)' must be a string, got \(item.kindName)")
            }
            out[k] = s
        }
        return out
    }

    private func describe(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): "string \"\(s.prefix(40))\""
        case .double(let d): "\(d)"
        default: v.kindName
        }
    }
}
