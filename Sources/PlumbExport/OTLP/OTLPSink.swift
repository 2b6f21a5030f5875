import Foundation
import PlumbCore

/// Sends spans to an OTLP/HTTP receiver (an OpenTelemetry Collector, Grafana Tempo, Honeycomb,
/// Datadog, Langfuse...): one POST per batch to `/v1/traces`, protobuf or JSON, gzipped.
///
/// ```swift
/// let sink = OTLPSink(settings: settings, resource: resource, providers: infos) { print($0) }
/// sink.send(batch)    // .accepted
/// ```
public final class OTLPSink: SpanSink, @unchecked Sendable {
    public let name = "otlp"
    public let settings: OTLPSettings
    public let resource: OTLPResource
    public var includeBodies: Bool { settings.includeBodies }
    public var maxBatchSpans: Int { settings.maxBatchSpans }
    let providers: [String: OTLPSpan.ProviderInfo]
    let client: HTTPClient
    let warn: @Sendable (String) -> Void
    let headerLines: [String]

    public init(settings: OTLPSettings, resource: OTLPResource, providers: [String: OTLPSpan.ProviderInfo],
                warn: @escaping @Sendable (String) -> Void) {
        self.settings = settings; self.resource = resource; self.providers = providers; self.warn = warn
        client = HTTPClient(timeout: settings.timeout, connectTimeout: min(settings.timeout, 5), maxResponseBytes: 1 << 20)
        var h = ["Content-Type: " + (settings.encoding == .protobuf ? "application/x-protobuf" : "application/json")]
        if settings.gzip { h.append("Content-Encoding: gzip") }
        h.append("User-Agent: plumb/\(resource.scopeVersion)")
        h += settings.headers.map { "\($0.name): \($0.value)" }
        headerLines = h
    }

    public func prepare() throws {}

    /// The request body for `batch`, encoded and (unless turned off) gzipped.
    public func body(_ batch: ExportBatch) throws -> [UInt8] {
        let spans = batch.spans.map { OTLPSpan($0, provider: providers[$0.provider], bodies: settings.includeBodies) }
        let encoded = settings.encoding == .protobuf ? OTLPProtobuf.request(spans, resource: resource)
                                                     : OTLPJSON.request(spans, resource: resource)
        return settings.gzip ? try Gzip.compress(encoded) : encoded
    }

    public func send(_ batch: ExportBatch) -> SendOutcome {
        let payload: [UInt8]
        do { payload = try body(batch) } catch { return .rejected(reason: "cannot encode the batch: \(error)") }
        let r: HTTPClient.Response
        do { r = try client.send(.post, settings.tracesURL, headers: headerLines, body: payload) } catch {
            return .retry(after: nil, reason: "\(URLRedaction.redacted(settings.tracesURL)): \(error)")
        }
        // Too large for the receiver (bodies make big batches): the halves go one after the
        // other; a failure of the second sends the first again with it, as any retry would.
        if r.status == 413 && batch.spans.count > 1 {
            let half = batch.spans.count / 2
            for part in [Array(batch.spans[..<half]), Array(batch.spans[half...])] {
                var b = batch
                b.spans = part
                let outcome = send(b)
                guard outcome == .accepted else { return outcome }
            }
            return .accepted
        }
        let protobuf = r.header("content-type")?.contains("protobuf") == true
        let outcome = SendOutcome.http(status: r.status, retryAfter: r.header("retry-after"),
                                       body: protobuf ? Self.statusMessage(r.body) : r.text)
        if outcome == .accepted, let partial = protobuf ? OTLPProtobuf.partialSuccess(r.body) : OTLPJSON.partialSuccess(r.body) {
            // The spec: a partial success is not retried; say what the receiver dropped.
            warn("exporter otlp: the receiver rejected \(partial.rejected) of \(batch.label): \(partial.message)")
        }
        return outcome
    }

    /// The `message` of a google.rpc.Status answer (field 2), the form OTLP receivers give
    /// errors in with protobuf; the byte count when there is none.
    static func statusMessage(_ body: [UInt8]) -> String {
        var i = 0
        func varint() -> UInt64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < body.count && shift < 64 {
                let b = body[i]; i += 1
                v |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
            return nil
        }
        while i < body.count, let tag = varint() {
            switch tag & 7 {
            case 0: guard varint() != nil else { break }
            case 2:
                guard let n = varint(), n <= UInt64(body.count - i) else { break }
                if tag >> 3 == 2 { return String(decoding: body[i..<i + Int(n)], as: UTF8.self) }
                i += Int(n)
            case 1: i += 8
            case 5: i += 4
            default: i = body.count
            }
        }
        return body.isEmpty ? "" : "(\(body.count) bytes of protobuf)"
    }
}
