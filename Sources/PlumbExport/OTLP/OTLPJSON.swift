import PlumbCore

/// OTLP's JSON encoding (`application/json`) of an export request, by the OTLP specification's
/// rules for JSON: trace and span ids as hex (not base64), enums as integers, lowerCamelCase
/// field names, 64-bit integers as decimal strings. Written directly: the proto3 JSON mapping
/// swift-protobuf implements would put ids in base64.
///
/// ```swift
/// let body = OTLPJSON.request(spans, resource: resource)
/// ```
public enum OTLPJSON {
    public static func request(_ spans: [OTLPSpan], resource: OTLPResource) -> [UInt8] {
        var w = JSONWriter()
        w.bytes.reserveCapacity(spans.count * 1500 + 512)
        w.raw(#"{"resourceSpans":[{"resource":{"attributes":"#)
        attributes(&w, resource.attributes)
        w.raw(#"},"scopeSpans":[{"scope":{"name":"#)
        w.string(resource.scopeName)
        w.raw(#","version":"#)
        w.string(resource.scopeVersion)
        w.raw(#"},"spans":["#)
        for (i, s) in spans.enumerated() {
            if i > 0 { w.raw(",") }
            span(&w, s)
        }
        w.raw("]}]}]}")
        return w.bytes
    }

    static func span(_ w: inout JSONWriter, _ s: OTLPSpan) {
        w.raw(#"{"traceId":""#); w.raw(Hex.encode(s.traceID))
        w.raw(#"","spanId":""#); w.raw(Hex.encode(s.spanID)); w.raw("\"")
        if !s.parentSpanID.isEmpty { w.raw(#","parentSpanId":""#); w.raw(Hex.encode(s.parentSpanID)); w.raw("\"") }
        w.raw(#","name":"#); w.string(s.name)
        w.raw(#","kind":3,"startTimeUnixNano":""#); w.raw(String(s.startNanos))
        w.raw(#"","endTimeUnixNano":""#); w.raw(String(s.endNanos))
        w.raw(#"","attributes":"#)
        attributes(&w, s.attributes)
        if s.isError {
            w.raw(#","status":{"code":2,"message":"#); w.string(s.statusMessage); w.raw("}")
        }
        w.raw("}")
    }

    static func attributes(_ w: inout JSONWriter, _ list: [(key: String, value: OTLPSpan.Value)]) {
        w.raw("[")
        for (i, a) in list.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw(#"{"key":"#); w.string(a.key); w.raw(#","value":"#)
            value(&w, a.value)
            w.raw("}")
        }
        w.raw("]")
    }

    static func value(_ w: inout JSONWriter, _ v: OTLPSpan.Value) {
        switch v {
        case .string(let s): w.raw(#"{"stringValue":"#); w.string(s); w.raw("}")
        case .int(let i): w.raw(#"{"intValue":""#); w.raw(String(i)); w.raw("\"}")
        case .bool(let b): w.raw(#"{"boolValue":"#); w.bool(b); w.raw("}")
        case .double(let d):
            w.raw(#"{"doubleValue":"#)
            // proto3 JSON spells the non-finite values as strings.
            if d.isNaN { w.raw(#""NaN""#) } else if d.isInfinite { w.raw(d > 0 ? #""Infinity""# : #""-Infinity""#) } else { w.raw("\(d)") }
            w.raw("}")
        case .strings(let a):
            w.raw(#"{"arrayValue":{"values":["#)
            for (i, s) in a.enumerated() {
                if i > 0 { w.raw(",") }
                value(&w, .string(s))
            }
            w.raw("]}}")
        }
    }

    /// A receiver's `partialSuccess` from a JSON answer.
    public static func partialSuccess(_ body: [UInt8]) -> (rejected: Int64, message: String)? {
        guard case .object(let o)? = try? JSONParser.parse(body), case .object(let p)? = o["partialSuccess"] else { return nil }
        var rejected: Int64 = 0
        switch p["rejectedSpans"] {
        case .int(let i)?: rejected = i
        case .string(let s)?: rejected = Int64(s) ?? 0
        default: break
        }
        var message = ""
        if case .string(let m)? = p["errorMessage"] { message = m }
        return rejected > 0 || !message.isEmpty ? (rejected, message) : nil
    }
}
