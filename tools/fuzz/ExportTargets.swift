import Foundation
@testable import PlumbCore
@testable import PlumbExport
@testable import PlumbQuery

/// What the exporters and the fleet source read from outside: stored bodies (any bytes a client
/// or provider sent) turned into GenAI message attributes and OTLP spans; a receiver's answers
/// (google.rpc.Status, partial success, gzip); ClickHouse's JSONCompact answers. Byte 0 picks
/// the API shape and stream flag; the rest splits at the first 0xFF into request and response.
enum ExportTarget: FuzzTarget {
    static let name = "export"
    static let summary = "exporters: GenAI messages from bodies, OTLP mapping and encodings, receiver answers, ClickHouse answers"
    static let resource = OTLPResource(serviceName: "fuzz", instanceID: "i", hostName: "h", scopeVersion: "0")

    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let rest = Array(bytes.dropFirst())
        let cut = rest.firstIndex(of: 0xFF) ?? rest.count / 2
        let request = String(decoding: rest[..<cut], as: UTF8.self)
        let response = String(decoding: rest[min(rest.count, cut + 1)...], as: UTF8.self)
        let shapes: [APIShape] = [.openai, .anthropic, .gemini, .passthrough]
        let operations = ["chat", "messages", "generate", "responses", "completion", "embeddings", "other", ""]
        let shape = shapes[Int(first & 3)]
        let operation = operations[Int(first >> 2) & 7]
        let m = GenAIMessages.convert(shape: shape, operation: operation, requestBody: request, responseBody: response, stream: first & 0x20 != 0)
        for text in [m.input, m.output, m.systemInstructions].compactMap({ $0 }) {
            precondition((try? JSONParser.parse(text)) != nil, "GenAI attributes are JSON")
        }
        var span = Span(spanID: String(decoding: rest.prefix(32), as: UTF8.self), tsStart: Int64(first) << 40, tsEnd: 0)
        span.traceID = request; span.parentSpanID = response; span.operation = operation; span.model = request
        span.requestBody = request; span.responseBody = response; span.stream = first & 0x20 != 0
        span.properties = [request: response]
        let o = OTLPSpan(span, provider: OTLPSpan.ProviderInfo(shape: shape, serverAddress: nil, serverPort: nil), bodies: true)
        precondition(o.traceID.count == 16 && o.spanID.count == 8)
        let wire = OTLPProtobuf.request([o], resource: resource)
        precondition(wire == (try? OTLPProtobuf.message([o], resource: resource)), "the wire encoder writes swift-protobuf's bytes")
        precondition((try? JSONParser.parse(OTLPJSON.request([o], resource: resource))) != nil, "OTLP/JSON is JSON")
        _ = OTLPSink.statusMessage(bytes)
        _ = OTLPProtobuf.partialSuccess(bytes)
        _ = OTLPJSON.partialSuccess(bytes)
        _ = try? Gzip.decompress(bytes, limit: 1 << 20)
        if case .object(let answer)? = try? JSONParser.parse(bytes), case .array(let rows)? = answer["data"] {
            let types: [SQLType] = [.bigint, .double, .varchar, .boolean, .timestamp, .interval, .map, .null]
            for case .array(let row) in rows.prefix(100) {
                for (i, cell) in row.prefix(16).enumerated() { _ = try? ClickHouseSource.value(cell, types[i % types.count]) }
            }
        }
    }
}
