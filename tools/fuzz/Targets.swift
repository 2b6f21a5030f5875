import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import PlumbAlerts
@testable import PlumbCore
@testable import PlumbExport
@testable import PlumbProxy
@testable import PlumbQuery
@testable import PlumbStore

/// SQL as `plumb query`, `POST /_plumb/query`, `--where` and the dashboards' `/` filter read it:
/// lexed, parsed, bound and, when it reads no table, evaluated (casts, arithmetic, functions).
enum SQLTarget: FuzzTarget {
    static let name = "sql"
    static let summary = "query text: lexer, parser, binder, and the evaluator on constant queries"
    static func run(_ bytes: [UInt8]) {
        let sql = String(decoding: bytes, as: UTF8.self)
        guard let bound = try? Binder(now: 1_795_255_200_000_000).bind(try Parser.parse(sql)), !bound.hasFrom else { return }
        var engine = QueryEngine(directory: DataDirectory("/nonexistent/plumb-fuzz"), now: 1_795_255_200_000_000)
        engine.deadline = QueryDeadline(seconds: 2)
        _ = try? engine.collect(sql)
    }
}

/// A config file, as `plumb serve` loads it.
enum TOMLTarget: FuzzTarget {
    static let name = "toml"
    static let summary = "config files: TOML, then every key plumb serve reads"
    static func run(_ bytes: [UInt8]) {
        guard let config = try? PlumbConfig(toml: String(decoding: bytes, as: UTF8.self), path: "fuzz.toml", environment: [:]) else { return }
        _ = try? ProxySettings(config: config, listen: nil, prices: PriceCatalog())
        _ = try? PriceCatalog().overridden(by: config)
        _ = try? ExportConfig(config: config)
        _ = try? AlertSettings(config: config)
    }
}

/// JSON from outside: an import line (`plumb import`), a whole response body's usage, a tree.
enum JSONTarget: FuzzTarget {
    static let name = "json"
    static let summary = "JSON: the parser, span import lines, the member picker and range finder"
    static func run(_ bytes: [UInt8]) {
        _ = try? JSONParser.parse(bytes)
        bytes.withUnsafeBufferPointer { ImportLineCheck.check($0) }
        var picker = JSONMemberPicker.forUsage()
        picker.feed(bytes)
        _ = picker.document
        if let r = JSONMemberRange.value(of: "stream_options", in: bytes) { precondition(r.upperBound <= bytes.count) }
        _ = RequestInspection.askingForUsage(bytes, hasOptions: true)
    }
}

/// `plumb import`'s byte-level scanner against the general path: a line the scanner takes must
/// decode there too, to the same span (bodies capped alike); a line it declines is left to that path.
enum ImportLineCheck {
    static func check(_ line: UnsafeBufferPointer<UInt8>) {
        let general = try? Span(jsonBytes: line)
        for maxBody in [1 << 20, 8] {
            var scanner = SpanLineDecoder(maxBodyBytes: maxBody)
            var records = SpanRecords()
            guard scanner.decode(line, into: &records) else { continue }
            guard let general else { preconditionFailure("the scanner took a line the general path refuses") }
            let capped = SpanStore.cappingBodies(general, maxBodyBytes: maxBody)
            var reader = ByteReader(records.encoded.bytes)
            let scanned = try? SpanRecord.decode(&reader)
            precondition(scanned == capped.span, "the scanner's span differs: \(String(describing: scanned)) vs \(capped.span)")
            precondition(scanner.droppedBody == capped.dropped && scanner.tsStart == general.tsStart)
        }
    }
}

/// An upstream's response on its way to the client: byte 0 picks the API shape, event stream or
/// not, and usage filtering; byte 1 the chunk size the rest arrives in.
enum ResponseTarget: FuzzTarget {
    static let name = "response"
    static let summary = "upstream responses: SSE scanner, AWS event streams, usage parsers, usage-chunk filter"
    static func run(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        // Byte 0: the shape (low 3 bits, of six), SSE, usage filter, AWS event stream (Bedrock's).
        // The top bit picks Vertex AI's Claude path for the shapes that read the path.
        let shapes: [APIShape] = [.openai, .anthropic, .gemini, .passthrough, .azure, .bedrock, .vertex]
        let shape = shapes[Int(bytes[0] & 7) % shapes.count]
        let path = bytes[0] & 128 != 0 ? "/v1/projects/p/locations/l/publishers/anthropic/models/m:streamRawPredict" : ""
        let observer = ResponseObserver(shape: shape, path: path, sse: bytes[0] & 8 != 0, awsEventStream: bytes[0] & 32 != 0,
                                        filterUsage: bytes[0] & 16 != 0, bodyCap: 4096)
        if bytes[0] & 64 != 0 { observer.headerCounts = (Int64(bytes[1]), nil) }
        let step = max(1, Int(bytes[1]))
        var i = 2
        while i < bytes.count {
            let end = min(bytes.count, i + step)
            _ = observer.pass(ByteBuffer(bytes: bytes[i..<end]))
            i = end
        }
        _ = observer.finish()
        let usage = observer.usage
        if let model = usage.model { _ = PriceCatalog.builtIn.price(provider: "openai", model: model)?.cost(of: usage) }
    }
}

/// Bytes from a client: NIO's HTTP/1 parser, then everything Plumb reads from a request head
/// (route, dot segments, caller headers, key, Host) and body (model, stream, usage rewrite).
enum RequestTarget: FuzzTarget {
    static let name = "request"
    static let summary = "client requests: HTTP/1 head and body through Plumb's routing and inspection"
    static let registry = try! ProviderRegistry(overrides: [:], defaultProvider: "openai")
    static let settings = ProxySettings(listen: try! ListenAddress("127.0.0.1:8787"), registry: registry)

    final class Collector: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h; body = []; RequestTarget.inspect(head: h)
            case .body(let b): if body.count < 1 << 20 { body += b.readableBytesView }
            case .end: if let head { RequestTarget.inspect(head: head, body: body) }
            }
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) {}
    }

    static func run(_ bytes: [UInt8]) {
        let channel = EmbeddedChannel()
        try? channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        try? channel.pipeline.syncOperations.addHandler(Collector())
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
        _ = try? channel.finish()
    }

    static func inspect(head h: HTTPRequestHead) {
        let (path, query) = ProxyConnectionHandler.split(h.uri)
        _ = Route(path: path, registry: registry)
        _ = ProxyConnectionHandler.queryKey(query)
        _ = ProxyConnectionHandler.hasBody(h)
        _ = CallerHeaders(h.headers).oversized
        _ = AdminEndpoints.refusal(settings: settings, host: h.headers.first(name: "host"), authorization: h.headers.first(name: "authorization"))
        _ = QueryEndpoint.parameters(query)
    }

    static func inspect(head h: HTTPRequestHead, body: [UInt8]) {
        let (path, _) = ProxyConnectionHandler.split(h.uri)
        for shape in [APIShape.openai, .anthropic, .gemini] {
            let operation = Operation(shape: shape, method: h.method.rawValue, path: path)
            _ = RequestInspection(shape: shape, operation: operation, path: path, body: body)
        }
    }
}

/// A segment file as a reader finds it on disk (damaged, truncated or forged).
enum SegmentTarget: FuzzTarget {
    static let name = "segment"
    static let summary = "segment files: footer, column index, pages, encodings, checksums"
    static let path = "/dev/shm/plumb-fuzz-\(getpid()).plseg"
    static func run(_ bytes: [UInt8]) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        defer { unlink(path) }
        guard let reader = try? SegmentReader(path: path) else { return }
        try? reader.checkAllPages()
        _ = try? reader.allColumns()
    }
}

/// A write-ahead log file as replay finds it after a crash (torn, damaged or forged).
enum WALTarget: FuzzTarget {
    static let name = "wal"
    static let summary = "write-ahead log files: frames, compression, span records"
    static let directory = "/dev/shm/plumb-fuzz-wal-\(getpid())"
    static func run(_ bytes: [UInt8]) {
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard FileManager.default.createFile(atPath: directory + "/" + WriteAheadLog.fileName(firstSeq: 1), contents: Data(bytes)) else { return }
        _ = try? WriteAheadLog.replay(directory: directory, publishedSeq: 0)
    }
}

/// One column page's payload as the decoders see it once its CRC32C has passed (a page whose
/// checksum was forged, or written by a buggy writer): byte 0 picks the column type.
enum PageTarget: FuzzTarget {
    static let name = "page"
    static let summary = "segment pages past their checksum: int, double, bool, string and map codecs"
    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let types = ColumnType.allCases
        _ = try? PageCodec.decode(Array(bytes.dropFirst()), type: types[Int(first) % types.count])
    }
}

/// One WAL frame's payload as replay decodes it once its CRC32C has passed: sequence, count,
/// codec (LZ4 with a stated size) and the span records.
enum FrameTarget: FuzzTarget {
    static let name = "frame"
    static let summary = "WAL frames past their checksum: LZ4 and span records"
    static func run(_ bytes: [UInt8]) {
        _ = try? WriteAheadLog.decodeFrame(bytes, from: 0, length: bytes.count)
    }
}

/// An upstream's response bytes through Plumb's HTTP/1 response parser, against NIO's decoder
/// (llhttp): byte 0 picks the request method (HEAD or POST) and byte 1 the piece size. Where
/// both accept the whole response, they must agree on status, fields (values trimmed, as RFC
/// 9110 §5.5 defines them), body and end; the parser's own bounds hold on any input.
enum UpstreamTarget: FuzzTarget {
    static let name = "upstream"
    static let summary = "upstream HTTP/1 responses: Plumb's response parser against NIO's decoder"

    struct Parsed: Equatable {
        var status: [UInt] = [], headers: [[String]] = [], body: [UInt8] = [], ends = 0
        mutating func head(_ h: HTTPResponseHead) {
            status.append(h.status.code)
            headers.append(h.headers.map { "\($0.name): \($0.value.trimmingCharacters(in: .whitespaces))" })
        }
    }

    static func run(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        let method: HTTPMethod = bytes[0] & 1 == 0 ? .POST : .HEAD
        let step = max(1, Int(bytes[1]))
        let input = Array(bytes[2...])
        var parser = UpstreamResponseParser(method: method)
        var mine = Parsed()
        var lastHead: UpstreamResponseHead?
        func take(_ part: UpstreamResponseParser.Part) {
            switch part {
            case .head(let h): mine.head(HTTPResponseHead(version: .http1_1, status: h.status, headers: h.headers)); lastHead = h
            case .body(let b): mine.body += b.readableBytesView
            case .end: mine.ends += 1
            }
        }
        var accepted = true
        var i = 0
        while i < input.count && accepted {
            var piece = ByteBuffer(bytes: input[i..<min(input.count, i + step)])
            do { try parser.feed(&piece, take) } catch { accepted = false }
            i += step
        }
        if accepted { do { try parser.inputClosed(take) } catch { accepted = false } }
        guard accepted, !parser.trailingBytes, mine.body.count <= input.count else { return }
        guard let theirs = nio(input, method: method), theirs.ends == 1 else { return }
        if theirs != mine {
            fatalError("upstream parser disagrees with NIO's decoder:\nplumb \(mine)\nnio   \(theirs)")
        }
        if let lastHead { forwarded(lastHead, method: method) }
    }

    /// A head both accept is forwarded as a head NIO's decoder takes, with its status.
    static func forwarded(_ head: UpstreamResponseHead, method: HTTPMethod) {
        guard head.code != 101 else { return }   // a switch of protocols is never forwarded
        let (out, framing) = ClientResponseWriter.forwardedHead(head, method: method, filtering: false, spanID: "s", close: false)
        var bytes = Array(out.readableBytesView)
        if framing == .chunked { bytes += Array("0\r\n\r\n".utf8) }
        if framing == .asIs, let n = head.values(of: "content-length").first.flatMap(UpstreamResponseParser.contentLength) {
            bytes += [UInt8](repeating: 0x61, count: min(n, 1 << 16))
            guard n <= 1 << 16 else { return }
        }
        guard let decoded = nio(bytes, method: method), decoded.ends == 1, decoded.status == [UInt(head.code)] else {
            fatalError("a forwarded head does not decode: \(String(decoding: bytes.prefix(2000), as: UTF8.self))")
        }
    }

    /// NIO's decoder on the same bytes, after a request with `method`; nil where it refuses them.
    static func nio(_ bytes: [UInt8], method: HTTPMethod) -> Parsed? {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        var out = Parsed()
        do {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: "/")))
            try channel.writeOutbound(HTTPClientRequestPart.end(nil))
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            channel.pipeline.fireChannelInactive()
            while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
                switch part {
                case .head(let h): out.head(h)
                case .body(let b): out.body += b.readableBytesView
                case .end: out.ends += 1
                }
            }
        } catch { return nil }
        return out
    }
}

/// What the control plane reads from outside: Redis replies (fed whole and in pieces, which
/// must agree; byte 0 picks the piece size; then read as the lease script's answer), budget and limit texts (`plumb keys create`), Redis
/// URLs, and alert messages read back from the catalog's outbox.
enum ControlTarget: FuzzTarget {
    static let name = "control"
    static let summary = "Redis replies (RESP2) whole and in pieces and as the control script's answer, budget/limit texts, Redis URLs, alert messages"
    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        func replies(piece: Int) -> [RESPValue]? {
            var d = RESPDecoder(), out: [RESPValue] = [], i = 0
            while i < body.count {
                d.feed(body[i..<min(body.count, i + piece)])
                i += piece
                do { while let v = try d.next() { out.append(v) } } catch { return nil }
            }
            return out
        }
        if let whole = replies(piece: max(1, body.count)), let pieces = replies(piece: Int(first % 16) + 1) {
            precondition(whole == pieces, "RESP replies differ when the bytes come in pieces")
            // Each reply as the control script's answer, for as many rules as byte 0 says: read
            // or refused, and a reading names only rules that exist.
            let limits = Int(first % 4), budgets = Int(first / 4 % 4)
            for reply in whole {
                switch try? SharedCounters.reply(reply, limits: limits, budgets: budgets) {
                case .granted(_, let l, let b)?: precondition(l.count == limits && b.count == budgets, "an answer for other rules")
                case .limitReached(let i, _, _, _)?: precondition((0..<limits).contains(i), "a refusal by a limit that is not there")
                case .budgetSpent(let i, _)?: precondition((0..<budgets).contains(i), "a refusal by a budget that is not there")
                case nil: break
                }
            }
        }
        let text = String(decoding: body, as: UTF8.self)
        _ = try? BudgetSpec.parse(text)
        _ = try? LimitSpec.parse(text)
        _ = try? RedisEndpoint(url: text, password: nil)
        if let e = AlertEvent.parse(text) { precondition(AlertEvent.parse(e.json) == e, "an alert message does not read back as itself") }
    }
}

/// What the cloud providers read from files and callers: an AWS credentials file's profile, a
/// service account's key file, a SigV4 `Authorization` value (whose access key id names the
/// caller), a JWT against a key, a token endpoint's token, and SigV4's canonical forms of any
/// path and query. Whatever is accepted must be safe to put in a header field.
enum CloudTarget: FuzzTarget {
    static let name = "cloud"
    static let summary = "AWS credentials files, service-account key files, SigV4 Authorization values and canonical forms, JWTs, bearer tokens"
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        func printable(_ s: String) -> Bool { !s.utf8.contains { $0 < 0x20 || $0 == 0x7F } }
        if let c = try? AWSCredentials.fromProfile(text, name: "prod", path: "fuzz") {
            precondition(printable(c.accessKeyID) && printable(c.secretAccessKey) && printable(c.sessionToken ?? ""), "a credential that would split a header")
        }
        if let a = try? ServiceAccount(json: bytes, path: "fuzz") {
            precondition(printable(a.clientEmail) && printable(a.tokenURI), "a service account field that would split a line")
        }
        if let id = BedrockSigning.accessKeyID(text) { precondition(id.utf8.count <= 128 && printable(id) && !id.contains("/"), "an access key id past its end") }
        if GoogleTokenSource.isBearerToken(text) { precondition(printable(text) && !text.contains(" "), "a token that would split a header") }
        let half = text.index(text.startIndex, offsetBy: text.count / 2)
        _ = ServiceAccountJWT.verify(String(text[..<half]), publicKeyPEM: String(text[half...]))
        let parts = text.split(separator: "?", maxSplits: 1)
        let canonical = SigV4.canonicalRequest(method: "POST", path: String(parts.first ?? ""), query: parts.count > 1 ? String(parts[1]) : nil,
                                               headers: [("host", "h"), ("x-amz-date", "20250101T000000Z")], signedHeaders: ["host", "x-amz-date"],
                                               payloadHash: "")
        let lines = canonical.split(separator: "\n", omittingEmptySubsequences: false)
        precondition(lines[1].utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "a canonical URI that is not encoded")
        precondition(lines[2].utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "a canonical query that is not encoded")
    }
}
