import NIOCore
import PlumbCore

/// Watches a response on its way to the client: keeps the stored copy of the body, reads usage
/// as the bytes pass (server-sent events one by one, a JSON body once complete), and, when Plumb
/// asked the upstream for usage on the caller's behalf, takes that usage back out.
///
/// ```swift
/// let observer = ResponseObserver(shape: .openai, sse: true, filterUsage: false, bodyCap: 1 << 20)
/// let out = observer.pass(chunk)       // the bytes to send on (the chunk itself when unfiltered)
/// ...; observer.finish(); observer.usage
/// ```
/// A class: the call holds it in an optional, and a struct there was copied (its usage parser's
/// box with it) on every chunk.
final class ResponseObserver {
    let sse: Bool
    /// The body is an AWS event stream (Bedrock): its messages go to the parser as they complete.
    var awsEvents: EventStreamDecoder?
    /// InvokeModel's token counts from the answer's head (used when the body gives none).
    var headerCounts: (input: Int64?, output: Int64?)?
    let filterUsage: Bool
    /// False for `passthrough` providers: the body is only captured.
    let readsUsage: Bool
    var parser: any ResponseUsageParser
    var scanner = SSEScanner()
    var capture: BodyCapture
    /// Reads usage from a whole JSON body as it passes, without keeping the body.
    var picker = JSONMemberPicker.forUsage()

    init(shape: APIShape, path: String = "", sse: Bool, awsEventStream: Bool = false, filterUsage: Bool, bodyCap: Int) {
        self.sse = sse
        if awsEventStream { awsEvents = EventStreamDecoder() }
        self.filterUsage = filterUsage && sse
        parser = UsageParser.make(for: shape, path: path)
        capture = BodyCapture(cap: bodyCap)
        readsUsage = shape != .passthrough
    }

    /// The bytes to forward for `chunk` (nil: forward `chunk` as it is).
    func pass(_ chunk: ByteBuffer) -> ByteBuffer? {
        chunk.withUnsafeReadableBytes { bytes in
            guard readsUsage else { capture.append(bytes); return nil }
            if awsEvents != nil {
                // Stored as the events' types and payloads, one a line: the frames are binary.
                for m in awsEvents!.feed(bytes) {
                    parser.message(m)
                    capture.append((m.headers[":event-type"] ?? m.headers[":exception-type"] ?? "message").utf8)
                    capture.append(": ".utf8)
                    capture.append(m.payload)
                    capture.append("\n".utf8)
                }
                return nil
            }
            if sse {
                let events = scanner.feed(bytes)
                guard filterUsage else {
                    capture.append(bytes)
                    for e in events { parser.event(e) }
                    return nil
                }
                var out = ByteBuffer()
                for e in events { forwardFiltered(e, into: &out) }
                return out
            }
            capture.append(bytes)
            picker.feed(bytes)
            return nil
        }
    }

    private func forwardFiltered(_ e: SSEEvent, into out: inout ByteBuffer) {
        parser.event(e)
        guard let bytes = UsageChunkFilter.filter(e) else { return }
        capture.append(bytes)
        out.writeBytes(bytes)
    }

    /// At the end of the body: what is still held back (filtered streams), and usage from a JSON body.
    func finish() -> ByteBuffer? {
        if awsEvents != nil { return nil }
        if sse {
            guard let last = scanner.finish() else { return nil }
            guard filterUsage else { parser.event(last); return nil }
            var out = ByteBuffer()
            forwardFiltered(last, into: &out)
            return out.readableBytes > 0 ? out : nil
        }
        if readsUsage, !picker.isEmpty { parser.body(picker.document) }
        if let counts = headerCounts { parser.headerCounts(input: counts.input, output: counts.output) }
        return nil
    }

    var usage: CallUsage { parser.usage }
}
