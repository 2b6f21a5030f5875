import NIOCore
import NIOHTTP1

/// Writes a proxied response to the client from below NIO's HTTP/1 response encoder: the
/// upstream's head forwarded from its own bytes (`forwardedHead`), each body chunk framed here
/// in one buffer, and the end. Through the encoder a head cost a `String` per field, an
/// `HTTPHeaders` and its encoding again, and a chunk a hex `String` and three pipeline writes:
/// on a stream of one token a chunk that was more than the token (issue 24). The encoder still
/// carries what Plumb answers itself (failures, admin pages).
///
/// The framing follows RFC 9112 §6.1–6.3: no body after HEAD or CONNECT or with a 1xx, 204 or
/// 304; a body with a Content-Length as it is; otherwise chunked (Plumb answers HTTP/1.1).
///
/// ```swift
/// let writer = ClientResponseWriter(below: encoderContext, method: .POST, head: upstreamHead,
///                                   filtering: false, spanID: id, close: false)
/// writer.write(chunk)          // "1b\r\n" + chunk + "\r\n", one write
/// writer.end()                 // "0\r\n\r\n"; the caller flushes
/// ```
struct ClientResponseWriter {
    enum Framing: Equatable {
        /// Chunked transfer coding, framed here.
        case chunked
        /// The bytes as they are (the head carries a Content-Length).
        case asIs
        /// No body may follow this head.
        case none
    }

    /// The HTTP encoder's own context: a write there goes to the socket without being encoded.
    let below: ChannelHandlerContext
    let framing: Framing

    /// Writes the head forwarded from `head` (see `forwardedHead`) and readies the body's framing.
    init(below: ChannelHandlerContext, method: HTTPMethod, head: UpstreamResponseHead, filtering: Bool, spanID: String, close: Bool,
         extra: [(String, String)] = []) {
        self.below = below
        let (bytes, framing) = Self.forwardedHead(head, method: method, filtering: filtering, spanID: spanID, close: close, extra: extra)
        self.framing = framing
        below.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
    }

    /// How the body after a head with `code` is framed (HTTP/1.1).
    static func framing(method: HTTPMethod, code: Int, hasLength: Bool) -> Framing {
        if method == .HEAD || method == .CONNECT || code < 200 || code == 204 || code == 304 { return .none }
        return hasLength ? .asIs : .chunked
    }

    /// Fields that never go to the client: hop-by-hop ones (RFC 9110 §7.6.1) and what Plumb sets
    /// itself, as `CallerHeaders.hopByHop` lists them. Content-Length is apart (`forwardedHead`).
    static let dropped: [StaticString] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "host", "accept-encoding", "expect",
    ]

    /// The head the client gets: `HTTP/1.1`, the upstream's status and reason, its fields as
    /// they came but the hop-by-hop ones, then its Content-Length once (not when Plumb changes
    /// the body by filtering usage out of a stream, nor with a 1xx or 204), the framing Plumb
    /// uses, `Plumb-Span-Id`, and `Connection: close` when the client's connection ends. The
    /// parser has already refused lengths that disagree (`UpstreamResponseParser.bodyState`).
    static func forwardedHead(_ head: UpstreamResponseHead, method: HTTPMethod, filtering: Bool, spanID: String,
                              close: Bool, extra: [(String, String)] = []) -> (ByteBuffer, Framing) {
        let bodyless = head.code < 200 || head.code == 204   // must not carry a Content-Length (RFC 9110 §8.6)
        var out = allocator.buffer(capacity: head.bytes.count + 96)
        var length: Range<Int>?
        head.bytes.withUnsafeBytes { raw in
            out.writeStaticString("HTTP/1.1 ")
            out.writeInteger(UInt8(0x30 + head.code / 100))
            out.writeInteger(UInt8(0x30 + head.code / 10 % 10))
            out.writeInteger(UInt8(0x30 + head.code % 10))
            out.writeInteger(UInt8(0x20))
            out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[head.reason]))
            out.writeInteger(UInt16(0x0D0A))
            for f in head.fields {
                if dropped.contains(where: { head.name(of: f, is: $0) }) { continue }
                // Plumb's own rate limits replace the upstream's figures (`extra` carries them).
                if !extra.isEmpty && ASCIICase.hasPrefix(head.bytes[f.name], "x-ratelimit-") { continue }
                if head.name(of: f, is: "content-length") {
                    // Said once, after the other fields: a client's parser may refuse the same
                    // length twice, or as a list ("5, 5"), which the upstream's parser accepts.
                    if length == nil { length = Self.firstElement(head.bytes, f.value) }
                    continue
                }
                // The line as it came (name, colon, white space, value): nothing to re-encode.
                out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[f.name.lowerBound..<f.value.upperBound]))
                out.writeInteger(UInt16(0x0D0A))
            }
        }
        let keepsLength = length != nil && !filtering && !bodyless
        if keepsLength, let length {
            out.writeStaticString("Content-Length: ")
            head.bytes.withUnsafeBytes { out.writeBytes(UnsafeRawBufferPointer(rebasing: $0[length])) }
            out.writeInteger(UInt16(0x0D0A))
        }
        let framing = Self.framing(method: method, code: head.code, hasLength: keepsLength)
        if framing == .chunked { out.writeStaticString("Transfer-Encoding: chunked\r\n") }
        for (name, value) in extra {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeInteger(UInt16(0x0D0A))
        }
        out.writeStaticString("Plumb-Span-Id: ")
        out.writeString(spanID)
        out.writeInteger(UInt16(0x0D0A))
        if close { out.writeStaticString("Connection: close\r\n") }
        out.writeInteger(UInt16(0x0D0A))
        return (out, framing)
    }

    /// The first element of a list value (RFC 9110 §5.6.1), trimmed.
    static func firstElement(_ bytes: [UInt8], _ value: Range<Int>) -> Range<Int> {
        var end = value.lowerBound
        while end < value.upperBound && bytes[end] != UInt8(ascii: ",") { end += 1 }
        return UpstreamResponseHead.trimmed(bytes, value.lowerBound..<end)
    }

    /// NIO's default allocator, which the channel's is: reaching it through the channel cost
    /// two getters and their reference counting a chunk.
    static let allocator = ByteBufferAllocator()

    /// Largest chunk copied into one framed buffer; a larger one goes as three writes, uncopied.
    static let copyLimit = 16 << 10

    func write(_ bytes: ByteBuffer) {
        let n = bytes.readableBytes
        guard n > 0 else { return }
        switch framing {
        case .none:
            return
        case .asIs:
            below.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
        case .chunked:
            var size = Self.allocator.buffer(capacity: n <= Self.copyLimit ? n + 20 : 20)
            Self.writeChunkSize(n, into: &size)
            if n <= Self.copyLimit {
                var copy = bytes
                size.writeBuffer(&copy)
                size.writeInteger(UInt16(0x0D0A))
                below.write(NIOAny(IOData.byteBuffer(size)), promise: nil)
            } else {
                below.write(NIOAny(IOData.byteBuffer(size)), promise: nil)
                below.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
                below.write(NIOAny(IOData.byteBuffer(ByteBuffer(integer: UInt16(0x0D0A)))), promise: nil)
            }
        }
    }

    /// The end of the body (the last chunk, for a chunked one). Not flushed: the call records
    /// its span first, so that a client holding the whole answer can look the span up at once.
    func end() {
        if framing == .chunked { below.write(NIOAny(IOData.byteBuffer(Self.lastChunk)), promise: nil) }
    }

    static let lastChunk = ByteBuffer(string: "0\r\n\r\n")

    /// The chunk-size line: lowercase hex digits, CRLF (RFC 9112 §7.1).
    static func writeChunkSize(_ n: Int, into buffer: inout ByteBuffer) {
        let digits: StaticString = "0123456789abcdef"
        var shift = (Int.bitWidth - n.leadingZeroBitCount + 3) / 4 * 4 - 4
        digits.withUTF8Buffer { d in
            while shift >= 0 {
                buffer.writeInteger(d[(n >> shift) & 0xF])
                shift -= 4
            }
        }
        buffer.writeInteger(UInt16(0x0D0A))
    }
}
