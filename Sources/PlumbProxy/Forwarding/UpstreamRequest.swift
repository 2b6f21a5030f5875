import NIOCore
import NIOHTTP1

/// The request Plumb sends upstream, as the bytes that go on the wire: the request line, `Host`,
/// the caller's fields that go on (`CallerHeaders.forwarded`), `Content-Length`, and the body.
/// A small body shares the head's buffer, so a call is one write. Built here rather than by
/// NIO's request encoder from an `HTTPHeaders`, which cost a call several microseconds
/// (issue 24). The fields came through NIO's request parser, which refuses CR, LF and NUL in
/// names and values, and the target through Plumb's router, so nothing here can split a line.
///
/// ```swift
/// let request = UpstreamRequest(method: .POST, target: "/v1/chat/completions", host: "api.openai.com",
///                               fields: caller.forwarded, body: body)
/// channel.write(request.head); if let rest = request.body { channel.write(rest) }
/// ```
struct UpstreamRequest {
    let method: HTTPMethod
    /// The head, and the body too when it is at most `inlineBodyLimit` bytes.
    let head: ByteBuffer
    /// A larger body, written after the head as it is (not copied).
    let body: ByteBuffer?

    static let inlineBodyLimit = 16 << 10

    init(method: HTTPMethod, target: String, host: String, fields: [(String, String)], body: ByteBuffer) {
        self.method = method
        let n = body.readableBytes
        let inline = n <= Self.inlineBodyLimit
        var out = ClientResponseWriter.allocator.buffer(capacity: 256 + target.utf8.count + (inline ? n : 0)
                                                        + fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 })
        out.writeString(method.rawValue)
        out.writeInteger(UInt8(0x20))
        out.writeString(target)
        out.writeStaticString(" HTTP/1.1\r\nHost: ")
        out.writeString(host)
        out.writeInteger(UInt16(0x0D0A))
        for (name, value) in fields {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeInteger(UInt16(0x0D0A))
        }
        if n > 0 || method == .POST || method == .PUT || method == .PATCH {
            out.writeStaticString("Content-Length: ")
            out.writeString(String(n))
            out.writeInteger(UInt16(0x0D0A))
        }
        out.writeInteger(UInt16(0x0D0A))
        if inline {
            var copy = body
            out.writeBuffer(&copy)
            self.body = nil
        } else {
            self.body = body
        }
        head = out
    }
}
