import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest
@testable import PlumbProxy

/// ClientResponseWriter forwards an upstream's head from its bytes and frames the body itself,
/// below NIO's encoder. What it writes is read back by NIO's own response decoder: the same
/// status, the upstream's fields but the hop-by-hop ones (judged here by a plain `String` set,
/// apart from the writer's byte compare), Plumb's own fields, and the body whole.
final class ClientResponseWriterTests: XCTestCase {
    final class Top: ChannelDuplexHandler, @unchecked Sendable {
        typealias InboundIn = Never
        typealias OutboundIn = HTTPServerResponsePart
    }

    struct Decoded: Equatable {
        var status = 0
        var fields: [String] = []
        var body: [UInt8] = []
        var ends = 0
    }

    /// The bytes the writer puts on a client connection for `upstream`'s head, `chunks` and the end.
    func wire(method: HTTPMethod, upstream: String, chunks: [ByteBuffer], filtering: Bool = false, close: Bool = false) throws
        -> (bytes: [UInt8], framing: ClientResponseWriter.Framing) {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
        try channel.pipeline.syncOperations.addHandler(Top())
        let encoder = try channel.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        let head = try UpstreamResponseHead(Array(upstream.utf8))
        let writer = ClientResponseWriter(below: encoder, method: method, head: head, filtering: filtering, spanID: "span1", close: close)
        for c in chunks { writer.write(c) }
        writer.end()
        encoder.flush()      // the call flushes after recording its span
        var out: [UInt8] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let b) = part else { XCTFail("a file region"); continue }
            out += b.readableBytesView
        }
        _ = try channel.finish()
        return (out, writer.framing)
    }

    /// NIO's client decoder on `bytes`, the answer to a request with `method`.
    func decode(_ bytes: [UInt8], method: HTTPMethod) throws -> Decoded {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHTTPClientHandlers()
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: "/")))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        var out = Decoded()
        while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
            switch part {
            case .head(let h): out.status = Int(h.status.code); out.fields = h.headers.map { "\($0.name): \($0.value)" }
            case .body(let b): out.body += b.readableBytesView
            case .end: out.ends += 1
            }
        }
        return out
    }

    /// What the client should see of `fields`: the reference rule, by lower-cased names.
    /// The Content-Length, when any, once after them.
    func kept(_ fields: [(String, String)], code: Int, filtering: Bool) -> [String] {
        let length = fields.first { $0.0.lowercased() == "content-length" }
            .map { $0.1.split(separator: ",", omittingEmptySubsequences: false)[0].trimmingCharacters(in: .whitespaces) }
        return fields.filter { !CallerHeaders.hopByHop.contains($0.0.lowercased()) }.map { "\($0.0): \($0.1)" }
            + (length != nil && !filtering && code >= 200 && code != 204 ? ["Content-Length: \(length!)"] : [])
    }

    func testEveryFramingDecodesAsTheUpstreamSent() throws {
        let sizes = [1, 9, 15, 16, 255, 256, 4095, 4096, ClientResponseWriter.copyLimit, ClientResponseWriter.copyLimit + 1, 100_000]
        let chunks = sizes.map { n in ByteBuffer(bytes: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) }) } + [ByteBuffer()]
        let body = chunks.flatMap { Array($0.readableBytesView) }
        let cases: [(HTTPMethod, String, ClientResponseWriter.Framing)] = [
            (.POST, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n", .chunked),
            (.POST, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-request-id:  abc \r\n", .chunked),
            (.POST, "HTTP/1.1 200 OK\r\ncontent-length: \(body.count)\r\nConnection: keep-alive\r\n", .asIs),
            (.POST, "HTTP/1.0 429 Too Many\r\nRetry-After: 3\r\n", .chunked),
            (.HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n", .none),
            (.GET, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n", .none),
            (.GET, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n", .none),
        ]
        for (method, upstream, framing) in cases {
            let (bytes, chosen) = try wire(method: method, upstream: upstream, chunks: chunks)
            XCTAssertEqual(chosen, framing, upstream)
            let head = try UpstreamResponseHead(Array(upstream.utf8))
            var want = Decoded(status: head.code, body: framing == .none ? [] : body, ends: 1)
            want.fields = kept(head.headers.map { ($0.name, $0.value) }, code: head.code, filtering: false)
                + (framing == .chunked ? ["Transfer-Encoding: chunked"] : []) + ["Plumb-Span-Id: span1"]
            XCTAssertEqual(try decode(bytes, method: method), want, upstream)
            XCTAssertTrue(bytes.starts(with: Array("HTTP/1.1 \(head.code) ".utf8)), "Plumb answers HTTP/1.1")
        }
    }

    func testFilteringDropsTheLengthAndCloseIsSaid() throws {
        let upstream = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 5\r\n"
        let (bytes, framing) = try wire(method: .POST, upstream: upstream, chunks: [ByteBuffer(string: "hello")], filtering: true, close: true)
        XCTAssertEqual(framing, .chunked)
        let got = try decode(bytes, method: .POST)
        XCTAssertEqual(got.fields, ["Content-Type: text/event-stream", "Transfer-Encoding: chunked", "Plumb-Span-Id: span1", "Connection: close"])
        let twice = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5, 5\r\n"
        let (again, _) = try wire(method: .POST, upstream: twice, chunks: [ByteBuffer(string: "hello")])
        XCTAssertEqual(try decode(again, method: .POST).fields, ["Content-Length: 5", "Plumb-Span-Id: span1"], "a length repeated is said once")
        XCTAssertEqual(got.body, Array("hello".utf8))
    }

    /// Random heads with hop-by-hop names in random case among ordinary ones, and random
    /// spacing: the kept fields are exactly the reference rule's, in order, values intact.
    func testRandomHeadsKeepExactlyTheEndToEndFields() throws {
        var rng = SystemRandomNumberGenerator()
        let names = Array(CallerHeaders.hopByHop) + ["Content-Length", "Content-Type", "X-Request-Id", "Set-Cookie", "Date",
                                                       "Server", "openai-model", "TE-X", "Connections", "Hosts", "Trailers"]
        func randomCase(_ s: String) -> String { String(s.map { Bool.random(using: &rng) ? Character($0.uppercased()) : Character($0.lowercased()) }) }
        for round in 0..<300 {
            let code = [200, 201, 204, 400, 404, 429, 500, 503].randomElement(using: &rng)!
            var fields: [(String, String)] = []
            for i in 0..<Int.random(in: 0...12, using: &rng) {
                let name = randomCase(names.randomElement(using: &rng)!)
                let value = name.lowercased() == "content-length" ? ["0", " 0", "0, 0"].randomElement(using: &rng)!
                    : name.lowercased() == "transfer-encoding" ? "identity" : "v\(round)-\(i) x"
                fields.append((name, value))
            }
            let text = "HTTP/1.1 \(code) R\r\n" + fields.map { "\($0.0):\([" ", "", "\t", "  "].randomElement(using: &rng)!)\($0.1)\r\n" }.joined()
            let filtering = Bool.random(using: &rng)
            let head = try UpstreamResponseHead(Array(text.utf8))
            let (out, framing) = ClientResponseWriter.forwardedHead(head, method: .POST, filtering: filtering, spanID: "s", close: false)
            var bytes = Array(out.readableBytesView)
            if framing == .chunked { bytes += Array("0\r\n\r\n".utf8) }
            if framing == .asIs { bytes += [] }   // every Content-Length here is 0
            let got = try decode(bytes, method: .POST)
            let want = kept(fields, code: code, filtering: filtering) + (framing == .chunked ? ["Transfer-Encoding: chunked"] : []) + ["Plumb-Span-Id: s"]
            XCTAssertEqual(got.fields, want, "round \(round): \(text)")
            XCTAssertEqual(got.status, code)
            XCTAssertEqual(got.ends, 1, "round \(round)")
        }
    }

    func testChunkSizeLineIsLowercaseHex() {
        for n in [1, 9, 10, 15, 16, 17, 255, 256, 0xABCDEF, Int(Int32.max), Int.max] {
            var b = ByteBuffer()
            ClientResponseWriter.writeChunkSize(n, into: &b)
            XCTAssertEqual(b.readString(length: b.readableBytes), String(n, radix: 16) + "\r\n")
        }
    }
}
