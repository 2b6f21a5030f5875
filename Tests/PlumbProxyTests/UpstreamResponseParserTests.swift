import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest
@testable import PlumbProxy

/// Plumb's upstream response parser, by hand and against NIO's own HTTP/1 decoder (llhttp) on
/// random responses in random pieces.
final class UpstreamResponseParserTests: XCTestCase {
    struct Parsed: Equatable {
        var status: [Int] = []
        var headers: [[String]] = []
        var body: [UInt8] = []
        var ends = 0
    }

    /// Ours: `bytes` in pieces of the given sizes (cycled), then the close.
    static func ours(_ bytes: [UInt8], method: HTTPMethod = .POST, pieces: [Int] = [1 << 30], close: Bool = true) throws -> (Parsed, UpstreamResponseParser) {
        var parser = UpstreamResponseParser(method: method)
        var out = Parsed()
        func take(_ part: UpstreamResponseParser.Part) {
            switch part {
            case .head(let h): out.status.append(Int(h.status.code)); out.headers.append(h.headers.map { "\($0.name): \($0.value)" })
            case .body(let b): out.body += b.readableBytesView
            case .end: out.ends += 1
            }
        }
        var i = 0, k = 0
        while i < bytes.count {
            let n = max(1, pieces[k % pieces.count]); k += 1
            var buffer = ByteBuffer(bytes: bytes[i..<min(bytes.count, i + n)])
            try parser.feed(&buffer, take)
            i += n
        }
        if close { try parser.inputClosed(take) }
        return (out, parser)
    }

    /// NIO's decoder on the same bytes (a request with `method` written first, as a client does).
    static func nio(_ bytes: [UInt8], method: HTTPMethod = .POST) throws -> Parsed {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHTTPClientHandlers()
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: "/")))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        var out = Parsed()
        func drain() throws {
            while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
                switch part {
                case .head(let h):
                    // llhttp keeps a value's trailing white space, which is not part of it (RFC 9110 §5.5).
                    out.status.append(Int(h.status.code))
                    out.headers.append(h.headers.map { "\($0.name): \($0.value.trimmingCharacters(in: .whitespaces))" })
                case .body(let b): out.body += b.readableBytesView
                case .end: out.ends += 1
                }
            }
        }
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        try drain()
        channel.pipeline.fireChannelInactive()
        try drain()
        return out
    }

    func testFramings() throws {
        let cl = Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello".utf8)
        let (a, pa) = try Self.ours(cl, pieces: [1], close: false)
        XCTAssertEqual(a, Parsed(status: [200], headers: [["Content-Length: 5", "Content-Type: application/json"]], body: Array("hello".utf8), ends: 1))
        XCTAssertTrue(pa.isComplete)

        let chunked = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n".utf8)
        for size in [1, 2, 3, 7, 1000] {
            let (b, pb) = try Self.ours(chunked, pieces: [size], close: false)
            XCTAssertEqual(b.body, Array("hello0123456789".utf8), "pieces of \(size)")
            XCTAssertEqual(b.ends, 1)
            XCTAssertFalse(pb.trailingBytes)
        }

        let untilClose = Array("HTTP/1.0 200 OK\r\n\r\nall of it".utf8)
        let (c, _) = try Self.ours(untilClose, close: true)
        XCTAssertEqual(c.body, Array("all of it".utf8))
        XCTAssertEqual(c.ends, 1)

        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".utf8)
        XCTAssertEqual(try Self.ours(head, method: .HEAD, close: false).0.ends, 1, "a HEAD response has no body")
        let noContent = Array("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        XCTAssertEqual(try Self.ours(noContent, close: false).0.ends, 1)

        let interim = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n".utf8)
        XCTAssertEqual(try Self.ours(interim, close: false).0.status, [201], "interim responses are skipped")

        let extra = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokJUNK".utf8)
        XCTAssertTrue(try Self.ours(extra, close: false).1.trailingBytes, "bytes after the response are noticed")
    }

    func testErrorsNameTheProblem() {
        let cases: [(String, String)] = [
            ("HTTP/2 200 OK\r\n\r\n", "invalid status line"),
            ("HTTP/1.1 2000 OK\r\n\r\n", "invalid status line"),
            ("HTTP/1.1 099 X\r\n\r\n", "invalid status code 99"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "invalid Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
            ("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "invalid header name"),
            ("HTTP/1.1 200 OK\r\n folded\r\n\r\n", "invalid header line"),
            ("HTTP/1.1 200 OK\r\nX: a\u{01}b\r\n\r\n", "invalid value in header"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size byte"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(String(repeating: "f", count: 17))\r\n", "chunk size is too large"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX", "not followed by CRLF"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "closed in the middle"),
            ("", "closed before a response"),
        ]
        for (text, words) in cases {
            XCTAssertThrowsError(try Self.ours(Array(text.utf8)), text.debugDescription) { error in
                XCTAssertTrue("\(error)".contains(words), "\(text.debugDescription): \(error)")
            }
        }
        let bigHead = Array(("HTTP/1.1 200 OK\r\n" + String(repeating: "X-Pad: \(String(repeating: "p", count: 100))\r\n", count: 700)).utf8)
        XCTAssertThrowsError(try Self.ours(bigHead, close: false)) { XCTAssertTrue("\($0)".contains("over 64 KiB"), "\($0)") }
        let manyFields = Array(("HTTP/1.1 200 OK\r\n" + String(repeating: "X: y\r\n", count: 300) + "\r\n").utf8)
        XCTAssertThrowsError(try Self.ours(manyFields, close: false)) { XCTAssertTrue("\($0)".contains("more than 256"), "\($0)") }
        let longTrailers = Array(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + String(repeating: "T: \(String(repeating: "t", count: 100))\r\n", count: 700)).utf8)
        XCTAssertThrowsError(try Self.ours(longTrailers, close: false)) { XCTAssertTrue("\($0)".contains("trailer section is over 64 KiB"), "\($0)") }
        let longExtension = Array(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: 5000)).utf8)
        XCTAssertThrowsError(try Self.ours(longExtension, close: false)) { XCTAssertTrue("\($0)".contains("chunk-size line"), "\($0)") }
    }

    /// Random well-formed responses, every framing, split at random: the same status, fields,
    /// body and end as NIO's decoder gives.
    func testAgreesWithNIOsDecoderOnRandomResponses() throws {
        var rng = SystemRandomNumberGenerator()
        let statuses = [200, 201, 204, 304, 400, 404, 429, 500, 503]
        for round in 0..<400 {
            let status = statuses.randomElement(using: &rng)!
            let method: HTTPMethod = Int.random(in: 0..<10, using: &rng) == 0 ? .HEAD : .POST
            let body = (0..<Int.random(in: 0...3000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var text = Array("HTTP/1.\(Bool.random(using: &rng) ? 1 : 0) \(status) Reason \(round)\r\n".utf8)
            var headers = ["Content-Type: text/event-stream", "x-request-id:\treq_\(round)  ", "Set-Cookie: a=b; Path=/"]
            headers.shuffle(using: &rng)
            let framing = status == 204 || status == 304 || method == .HEAD ? Int.random(in: 0...1, using: &rng) : Int.random(in: 0...2, using: &rng)
            switch framing {
            case 0: headers.append("Content-Length: \(method == .HEAD || status == 204 || status == 304 ? 0 : body.count)")
            case 1: headers.append(["Transfer-Encoding: chunked", "transfer-encoding: Chunked"].randomElement(using: &rng)!)
            default: break
            }
            for h in headers { text += Array("\(h)\r\n".utf8) }
            text += Array("\r\n".utf8)
            let sends = status != 204 && status != 304 && method != .HEAD
            if sends {
                switch framing {
                case 1:
                    var i = 0
                    while i < body.count {
                        let n = min(body.count - i, Int.random(in: 1...700, using: &rng))
                        text += Array(String(n, radix: 16, uppercase: Bool.random(using: &rng)).utf8)
                        if Bool.random(using: &rng) { text += Array(";name=value".utf8) }
                        text += Array("\r\n".utf8) + body[i..<i + n] + Array("\r\n".utf8)
                        i += n
                    }
                    text += Array((Bool.random(using: &rng) ? "0\r\nTrailer-Field: x\r\n\r\n" : "0\r\n\r\n").utf8)
                default: text += body
                }
            }
            let pieces = (0..<5).map { _ in Int.random(in: 1...600, using: &rng) }
            let mine = try Self.ours(text, method: method, pieces: pieces, close: true).0
            let theirs = try Self.nio(text, method: method)
            XCTAssertEqual(mine, theirs, "round \(round): status \(status), \(method), framing \(framing)")
            XCTAssertEqual(mine.body, sends ? body : [], "round \(round)")
        }
    }
}
