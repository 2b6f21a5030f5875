/// One span as OTLP has it, before encoding: what the protobuf and the JSON encoders share.
public struct OTLPSpan: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case string(String), int(Int64), double(Double), bool(Bool), strings([String])
    }

    /// 16 bytes.
    public var traceID: [UInt8]
    /// 8 bytes.
    public var spanID: [UInt8]
    /// 8 bytes, or empty for a root span.
    public var parentSpanID: [UInt8]
    public var name: String
    public var startNanos: UInt64
    public var endNanos: UInt64
    public var isError: Bool
    public var statusMessage: String
    public var attributes: [(key: String, value: Value)]

    public static func == (a: OTLPSpan, b: OTLPSpan) -> Bool {
        a.traceID == b.traceID && a.spanID == b.spanID && a.parentSpanID == b.parentSpanID && a.name == b.name
            && a.startNanos == b.startNanos && a.endNanos == b.endNanos && a.isError == b.isError
            && a.statusMessage == b.statusMessage
            && a.attributes.map(\.key) == b.attributes.map(\.key) && a.attributes.map(\.value) == b.attributes.map(\.value)
    }

    /// The value of attribute `key`, if set.
    public func attribute(_ key: String) -> Value? { attributes.first { $0.key == key }?.value }
}

/// The resource and scope every exported span shares.
public struct OTLPResource: Sendable, Equatable {
    public var attributes: [(key: String, value: OTLPSpan.Value)]
    public var scopeName = "plumb"
    public var scopeVersion: String

    public init(serviceName: String, instanceID: String, hostName: String, scopeVersion: String,
                extra: [(String, String)] = []) {
        var a: [(key: String, value: OTLPSpan.Value)] = [
            ("service.name", .string(serviceName)), ("service.instance.id", .string(instanceID)), ("host.name", .string(hostName)),
        ]
        for (k, v) in extra where !a.contains(where: { $0.key == k }) { a.append((k, .string(v))) }
        attributes = a
        self.scopeVersion = scopeVersion
    }

    public static func == (a: OTLPResource, b: OTLPResource) -> Bool {
        a.attributes.map(\.key) == b.attributes.map(\.key) && a.attributes.map(\.value) == b.attributes.map(\.value)
            && a.scopeName == b.scopeName && a.scopeVersion == b.scopeVersion
    }
}
