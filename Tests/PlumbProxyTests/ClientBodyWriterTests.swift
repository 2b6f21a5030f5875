import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest
@testable import PlumbProxy

/// ClientBodyWriter frames body bytes below NIO's encoder: the bytes on the wire must be the
/// encoder's own, for every framing the encoder can choose.
final class ClientBodyWriterTests: XCTestCase {
    final class Top: ChannelDuplexHandler, @unchecked Sendable {
        typealias InboundIn = Never
        typealias OutboundIn = HTTPServerResponsePart
    }

    /// The bytes a channel sends for `head`, `chunks` and the end, the body written either
    /// through the encoder or by the writer.
    func wire(method: HTTPMethod, head: HTTPResponseHead, chunks: [ByteBuffer], byWriter: Bool) throws -> [UInt8] {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
        try channel.pipeline.syncOperations.addHandler(Top())
        let top = try channel.pipeline.syncOperations.context(handlerType: Top.self)
        let encoder = try channel.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        top.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        let writer = ClientBodyWriter(client: top, below: encoder, method: method, head: head)
        for c in chunks {
            if byWriter { writer.write(c) } else { top.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(c))), promise: nil) }
        }
        top.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        var out: [UInt8] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let b) = part else { XCTFail("a file region"); continue }
            out += b.readableBytesView
        }
        _ = try channel.finish()
        return out
    }

    func testFramingIsTheEncodersForEveryHeadAndChunkSize() throws {
        let sizes = [1, 9, 15, 16, 255, 256, 4095, 4096, ClientBodyWriter.copyLimit, ClientBodyWriter.copyLimit + 1, 100_000]
        let chunks = sizes.map { n in ByteBuffer(bytes: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) }) } + [ByteBuffer()]
        let heads: [(HTTPMethod, HTTPResponseHead, ClientBodyWriter.Framing)] = [
            (.POST, HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-type": "text/event-stream"]), .chunked),
            (.POST, HTTPResponseHead(version: .http1_1, status: .ok, headers: ["transfer-encoding": "chunked"]), .chunked),
            (.POST, HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "\(sizes.reduce(0, +))"]), .asIs),
            (.HEAD, HTTPResponseHead(version: .http1_1, status: .ok, headers: [:]), .encoder),
            (.GET, HTTPResponseHead(version: .http1_1, status: .noContent, headers: [:]), .encoder),
            (.GET, HTTPResponseHead(version: .http1_1, status: .notModified, headers: [:]), .encoder),
            (.GET, HTTPResponseHead(version: .http1_0, status: .ok, headers: [:]), .encoder),
        ]
        for (method, head, framing) in heads {
            XCTAssertEqual(ClientBodyWriter.framing(method: method, head: head), framing, "\(method) \(head.status)")
            let body = head.status.mayHaveResponseBody && method != .HEAD ? chunks : []
            let viaEncoder = try wire(method: method, head: head, chunks: body, byWriter: false)
            let viaWriter = try wire(method: method, head: head, chunks: body, byWriter: true)
            XCTAssertEqual(viaWriter, viaEncoder, "\(method) \(head.status) \(head.headers)")
            XCTAssertGreaterThan(viaEncoder.count, 0)
        }
    }

    func testChunkSizeLineIsLowercaseHex() {
        for n in [1, 9, 10, 15, 16, 17, 255, 256, 0xABCDEF, Int(Int32.max), Int.max] {
            var b = ByteBuffer()
            ClientBodyWriter.writeChunkSize(n, into: &b)
            XCTAssertEqual(b.readString(length: b.readableBytes), String(n, radix: 16) + "\r\n")
        }
    }
}
