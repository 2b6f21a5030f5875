import Foundation
import SwiftProtobuf

/// OTLP's protobuf encoding (`application/x-protobuf`) of an export request. The bytes are
/// written by `OTLPWire`; the message types generated from opentelemetry-proto (Generated/, made
/// by tools/gen_otlp.sh) with swift-protobuf build the same request as a message (`message`, the
/// reference the tests compare with) and decode receivers' answers.
///
/// ```swift
/// let body = OTLPProtobuf.request(spans, resource: resource)
/// ```
public enum OTLPProtobuf {
    public static func request(_ spans: [OTLPSpan], resource: OTLPResource) -> [UInt8] {
        OTLPWire.request(spans, resource: resource)
    }

    /// The same request through swift-protobuf's generated messages, serialized.
    public static func message(_ spans: [OTLPSpan], resource: OTLPResource) throws -> [UInt8] {
        var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scope.scope.name = resource.scopeName
        scope.scope.version = resource.scopeVersion
        scope.spans = spans.map(span)
        var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        rs.resource.attributes = resource.attributes.map { keyValue($0.key, $0.value) }
        rs.scopeSpans = [scope]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [rs]
        return try request.serializedBytes()
    }

    static func span(_ s: OTLPSpan) -> Opentelemetry_Proto_Trace_V1_Span {
        var p = Opentelemetry_Proto_Trace_V1_Span()
        p.traceID = Data(s.traceID)
        p.spanID = Data(s.spanID)
        if !s.parentSpanID.isEmpty { p.parentSpanID = Data(s.parentSpanID) }
        p.name = s.name
        p.kind = .client
        p.startTimeUnixNano = s.startNanos
        p.endTimeUnixNano = s.endNanos
        p.attributes = s.attributes.map { keyValue($0.key, $0.value) }
        if s.isError {
            p.status.code = .error
            p.status.message = s.statusMessage
        }
        return p
    }

    static func keyValue(_ key: String, _ value: OTLPSpan.Value) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var kv = Opentelemetry_Proto_Common_V1_KeyValue()
        kv.key = key
        kv.value = anyValue(value)
        return kv
    }

    static func anyValue(_ value: OTLPSpan.Value) -> Opentelemetry_Proto_Common_V1_AnyValue {
        var v = Opentelemetry_Proto_Common_V1_AnyValue()
        switch value {
        case .string(let s): v.stringValue = s
        case .int(let i): v.intValue = i
        case .double(let d): v.doubleValue = d
        case .bool(let b): v.boolValue = b
        case .strings(let a):
            var array = Opentelemetry_Proto_Common_V1_ArrayValue()
            array.values = a.map { anyValue(.string($0)) }
            v.arrayValue = array
        }
        return v
    }

    /// A receiver's `partial_success`: spans it rejected and why (both zero-valued when all were taken).
    public static func partialSuccess(_ body: [UInt8]) -> (rejected: Int64, message: String)? {
        guard let r = try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(serializedBytes: body),
              r.hasPartialSuccess, r.partialSuccess.rejectedSpans > 0 || !r.partialSuccess.errorMessage.isEmpty
        else { return nil }
        return (r.partialSuccess.rejectedSpans, r.partialSuccess.errorMessage)
    }
}
