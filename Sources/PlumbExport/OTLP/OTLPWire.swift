/// OTLP's protobuf wire format written directly from `OTLPSpan`s, sizes computed first so each
/// nested message is written once. swift-protobuf's generated messages (`OTLPProtobuf.message`)
/// remain the reference: the tests check that both give the same bytes and that swift-protobuf
/// and the opentelemetry-proto package decode them. Hand-written because building the generated
/// messages cost 34 µs a span (`plumb-bench export`), a third of a core at 10,000 spans/s; this
/// costs about 2 µs.
///
/// ```swift
/// let body = OTLPWire.request(spans, resource: resource)   // an ExportTraceServiceRequest
/// ```
enum OTLPWire {
    // Field tags: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited).
    static let lengthDelimited: UInt64 = 2

    @inline(__always) static func varintSize(_ v: UInt64) -> Int {
        var n = 1, x = v
        while x >= 0x80 { x >>= 7; n += 1 }
        return n
    }

    @inline(__always) static func fieldSize(_ payload: Int) -> Int { 1 + varintSize(UInt64(payload)) + payload }

    /// A proto3 string outside a oneof is not written when empty (as swift-protobuf does).
    @inline(__always) static func textSize(_ s: String) -> Int { s.isEmpty ? 0 : fieldSize(s.utf8.count) }

    static func anyValueSize(_ v: OTLPSpan.Value) -> Int {
        switch v {
        case .string(let s): return fieldSize(s.utf8.count)
        case .bool: return 2
        case .int(let i): return 1 + varintSize(UInt64(bitPattern: i))
        case .double: return 9
        case .strings(let a): return fieldSize(a.reduce(0) { $0 + fieldSize(fieldSize($1.utf8.count)) })
        }
    }

    static func keyValueSize(_ key: String, _ v: OTLPSpan.Value) -> Int {
        textSize(key) + fieldSize(anyValueSize(v))
    }

    static func spanSize(_ s: OTLPSpan) -> Int {
        var n = fieldSize(s.traceID.count) + fieldSize(s.spanID.count)
        if !s.parentSpanID.isEmpty { n += fieldSize(s.parentSpanID.count) }
        // proto3 leaves out a zero time, as swift-protobuf does.
        n += textSize(s.name) + 2 + (s.startNanos == 0 ? 0 : 9) + (s.endNanos == 0 ? 0 : 9)
        for a in s.attributes { n += fieldSize(keyValueSize(a.key, a.value)) }
        if s.isError { n += fieldSize(statusSize(s)) }
        return n
    }

    static func statusSize(_ s: OTLPSpan) -> Int {
        textSize(s.statusMessage) + 2
    }

    struct Writer {
        var bytes: [UInt8] = []

        @inline(__always) mutating func varint(_ v: UInt64) {
            var x = v
            while x >= 0x80 { bytes.append(UInt8(x & 0x7F) | 0x80); x >>= 7 }
            bytes.append(UInt8(x))
        }

        @inline(__always) mutating func tag(_ field: UInt64, _ wire: UInt64) { varint(field << 3 | wire) }

        mutating func header(_ field: UInt64, length: Int) { tag(field, 2); varint(UInt64(length)) }

        mutating func bytesField(_ field: UInt64, _ b: [UInt8]) { header(field, length: b.count); bytes += b }

        /// An optional text field: nothing when empty.
        mutating func text(_ field: UInt64, _ s: String) { if !s.isEmpty { string(field, s) } }

        mutating func string(_ field: UInt64, _ s: String) {
            var s = s
            s.withUTF8 { u in header(field, length: u.count); bytes.append(contentsOf: u) }
        }

        mutating func fixed64(_ field: UInt64, _ v: UInt64) {
            tag(field, 1)
            withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        }

        mutating func anyValue(_ v: OTLPSpan.Value) {
            switch v {
            case .string(let s): string(1, s)
            case .bool(let b): tag(2, 0); bytes.append(b ? 1 : 0)
            case .int(let i): tag(3, 0); varint(UInt64(bitPattern: i))
            case .double(let d): tag(4, 1); withUnsafeBytes(of: d.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            case .strings(let a):
                header(5, length: a.reduce(0) { $0 + fieldSize(fieldSize($1.utf8.count)) })
                for s in a { header(1, length: fieldSize(s.utf8.count)); string(1, s) }
            }
        }

        mutating func keyValue(_ field: UInt64, _ key: String, _ v: OTLPSpan.Value) {
            header(field, length: keyValueSize(key, v))
            text(1, key)
            header(2, length: anyValueSize(v))
            anyValue(v)
        }

        mutating func span(_ s: OTLPSpan) {
            header(2, length: spanSize(s))          // ScopeSpans.spans
            bytesField(1, s.traceID)
            bytesField(2, s.spanID)
            if !s.parentSpanID.isEmpty { bytesField(4, s.parentSpanID) }
            text(5, s.name)
            tag(6, 0); varint(3)                    // SPAN_KIND_CLIENT
            if s.startNanos != 0 { fixed64(7, s.startNanos) }
            if s.endNanos != 0 { fixed64(8, s.endNanos) }
            for a in s.attributes { keyValue(9, a.key, a.value) }
            if s.isError {
                header(15, length: statusSize(s))
                text(2, s.statusMessage)
                tag(3, 0); varint(2)                // STATUS_CODE_ERROR
            }
        }
    }

    static func request(_ spans: [OTLPSpan], resource: OTLPResource) -> [UInt8] {
        let resourceSize = resource.attributes.reduce(0) { $0 + fieldSize(keyValueSize($1.key, $1.value)) }
        let scopeSize = textSize(resource.scopeName) + textSize(resource.scopeVersion)
        let spansSize = spans.reduce(0) { $0 + fieldSize(spanSize($1)) }
        let scopeSpansSize = fieldSize(scopeSize) + spansSize
        let resourceSpansSize = fieldSize(resourceSize) + fieldSize(scopeSpansSize)
        var w = Writer()
        w.bytes.reserveCapacity(fieldSize(resourceSpansSize))
        w.header(1, length: resourceSpansSize)       // ExportTraceServiceRequest.resource_spans
        w.header(1, length: resourceSize)            // ResourceSpans.resource
        for a in resource.attributes { w.keyValue(1, a.key, a.value) }
        w.header(2, length: scopeSpansSize)          // ResourceSpans.scope_spans
        w.header(1, length: scopeSize)               // ScopeSpans.scope
        w.text(1, resource.scopeName)
        w.text(2, resource.scopeVersion)
        for s in spans { w.span(s) }
        return w.bytes
    }
}
