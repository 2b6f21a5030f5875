import NIOCore
import NIOHTTP1

/// Plumb's HTTP/1.1 response parser for its upstream connections (RFC 9112): the status line and
/// header fields, then the body framed by Content-Length, chunked transfer coding or the close of
/// the connection. Hand-written because it sits on the streaming path: NIO's decoder and its
/// pipeline hop cost about 3 µs of a streamed chunk's 15 µs of user time (issue 24), where this
/// hands each chunk's bytes on as a slice of the buffer read. Every part is bounded (head, field
/// count, chunk-size line, trailers) and every violation is an error that names it; the fuzz
/// target `upstream` checks it against NIO's own decoder.
///
/// ```swift
/// var parser = UpstreamResponseParser(method: .POST)
/// try parser.feed(&buffer) { part in
///     switch part { case .head(let h): ...; case .body(let bytes): ...; case .end: ... }
/// }
/// try parser.inputClosed { part in ... }      // a body that runs to the close ends here
/// ```
struct UpstreamResponseParser {
    enum Part {
        case head(UpstreamResponseHead)
        case body(ByteBuffer)
        case end
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = "upstream response: " + description }
    }

    static let maxHeadBytes = 64 << 10
    static let maxHeaderFields = 256
    static let maxChunkLineBytes = 4 << 10
    static let maxTrailerBytes = 64 << 10

    /// Where the parser is in the response (connection state as an enum, one case per wait).
    enum State {
        /// The status line and fields, gathered in `headBytes` until the blank line.
        case head
        /// A body of known length: the bytes still to come.
        case fixed(remaining: Int)
        /// A chunk-size line: its value so far, its length, and whether extensions have begun.
        case chunkSize(value: Int, digits: Int, lineBytes: Int, inExtension: Bool)
        /// The data of a chunk.
        case chunkData(remaining: Int)
        /// The CRLF after a chunk's data (`seenCR`: its CR arrived).
        case chunkDataEnd(seenCR: Bool)
        /// The trailer section after the last chunk, up to its blank line: bytes of the current
        /// line and of the whole section.
        case trailers(lineBytes: Int, total: Int)
        /// A body that ends when the connection closes.
        case untilClose
        /// The response is complete; more bytes are a protocol violation.
        case done
    }

    private(set) var state = State.head
    private var headBytes: [UInt8] = []
    /// Where the head scan is: lines ended so far, bytes of the current line, its last a CR.
    private var linesSeen = 0, lineBytes = 0, lastWasCR = false
    /// The request was HEAD: its response has no body, whatever its fields say (RFC 9112 §6.3).
    let noBody: Bool
    /// Bytes came after the end of the response: the connection cannot be reused.
    private(set) var trailingBytes = false

    init(method: HTTPMethod) {
        noBody = method == .HEAD
    }

    var isComplete: Bool { if case .done = state { true } else { false } }

    /// Consumes `buffer`, handing on the parts it completes, in order.
    mutating func feed(_ buffer: inout ByteBuffer, _ emit: (Part) -> Void) throws {
        while buffer.readableBytes > 0 {
            switch state {
            case .head:
                try readHead(&buffer, emit)
            case .fixed(let remaining):
                let n = min(remaining, buffer.readableBytes)
                emit(.body(buffer.readSlice(length: n)!))
                if n == remaining { finish(emit) } else { state = .fixed(remaining: remaining - n) }
            case .chunkData(let remaining):
                let n = min(remaining, buffer.readableBytes)
                emit(.body(buffer.readSlice(length: n)!))
                state = n == remaining ? .chunkDataEnd(seenCR: false) : .chunkData(remaining: remaining - n)
            case .chunkDataEnd(let seenCR):
                let b = buffer.readInteger(as: UInt8.self)!
                if b == 0x0D, !seenCR { state = .chunkDataEnd(seenCR: true) }
                else if b == 0x0A { state = .chunkSize(value: 0, digits: 0, lineBytes: 0, inExtension: false) }
                else { throw Failure("chunk data is not followed by CRLF") }
            case .chunkSize:
                try readChunkSize(&buffer, emit)
            case .trailers:
                try readTrailers(&buffer, emit)
            case .untilClose:
                emit(.body(buffer.readSlice(length: buffer.readableBytes)!))
            case .done:
                trailingBytes = true
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            }
        }
    }

    /// The connection closed: the end of a body that runs to the close; for any other state
    /// the response was cut short.
    mutating func inputClosed(_ emit: (Part) -> Void) throws {
        switch state {
        case .untilClose: finish(emit)
        case .done: break
        case .head where headBytes.isEmpty: throw Failure("the connection closed before a response")
        default: throw Failure("the connection closed in the middle of the response")
        }
    }

    private mutating func finish(_ emit: (Part) -> Void) {
        state = .done
        emit(.end)
    }

    // MARK: The head

    private mutating func readHead(_ buffer: inout ByteBuffer, _ emit: (Part) -> Void) throws {
        // Gather up to the blank line that ends the head (LF CRLF or LF LF), scanning the read
        // in place and copying it once: a byte-at-a-time append was most of a call's parse.
        var end = false
        let taken = buffer.withUnsafeReadableBytes { p -> Int in
            var i = 0
            while i < p.count {
                let byte = p[i]
                i += 1
                if byte == 0x0A {
                    if linesSeen > 0 && (lineBytes == 0 || (lineBytes == 1 && lastWasCR)) { end = true; break }
                    linesSeen += 1
                    lineBytes = 0
                } else {
                    lineBytes += 1
                }
                lastWasCR = byte == 0x0D
            }
            return i
        }
        guard headBytes.count + taken <= Self.maxHeadBytes + 2 else { throw Failure("the head is over \(Self.maxHeadBytes >> 10) KiB") }
        headBytes.append(contentsOf: buffer.readableBytesView.prefix(taken))
        buffer.moveReaderIndex(forwardBy: taken)
        guard end else { return }
        linesSeen = 0; lineBytes = 0; lastWasCR = false
        // The head's bytes go with it (it is forwarded from them); the next head starts anew.
        let head = try UpstreamResponseHead(headBytes)
        headBytes = []
        let code = head.code
        if code >= 100 && code < 200 && code != 101 {
            return   // an interim response (100 Continue, 103 Early Hints): the final one follows
        }
        // The framing is judged before the head goes on: a response refused for it is refused
        // whole (a 502), not cut after its head was forwarded.
        let body = try bodyState(head)
        emit(.head(head))
        if let body { state = body } else { finish(emit) }
    }

    /// How the body after `head` is framed; nil when there is none (RFC 9112 §6.3).
    private func bodyState(_ head: UpstreamResponseHead) throws -> State? {
        let code = head.code
        if noBody || code == 101 || code == 204 || code == 304 { return nil }
        var lastCoding: ArraySlice<UInt8>?
        head.forEachElement(of: "transfer-encoding") { lastCoding = $0 }
        if let last = lastCoding {
            // A final coding other than chunked runs to the close (RFC 9112 §6.3, item 4).
            return ASCIICase.equals(last, "chunked") ? .chunkSize(value: 0, digits: 0, lineBytes: 0, inExtension: false) : .untilClose
        }
        var first: ArraySlice<UInt8>?, agree = true
        head.forEachElement(of: "content-length") { length in
            if let first { agree = agree && length.elementsEqual(first) } else { first = length }
        }
        guard let first else { return .untilClose }
        guard agree, let n = Self.contentLength(first) else {
            let shown = head.values(of: "content-length").map { String(decoding: $0, as: UTF8.self) }.joined(separator: ", ").prefix(40)
            throw Failure("invalid Content-Length \"\(shown)\"")
        }
        return n == 0 ? nil : .fixed(remaining: n)
    }

    static func contentLength(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    static func printable<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        String(bytes.map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : "?" })
    }

    // MARK: Chunked transfer coding (RFC 9112 §7.1)

    private mutating func readChunkSize(_ buffer: inout ByteBuffer, _ emit: (Part) -> Void) throws {
        guard case .chunkSize(var value, var digits, var lineBytes, var inExtension) = state else { return }
        while let b = buffer.readInteger(as: UInt8.self) {
            lineBytes += 1
            guard lineBytes <= Self.maxChunkLineBytes else { throw Failure("a chunk-size line is over \(Self.maxChunkLineBytes) bytes") }
            if b == 0x0A {
                guard digits > 0 else { throw Failure("a chunk has no size") }
                if value == 0 { state = .trailers(lineBytes: 0, total: 0); return try readTrailers(&buffer, emit) }
                state = .chunkData(remaining: value)
                return
            }
            if inExtension || b == 0x0D { inExtension = true; continue }   // extensions are ignored (§7.1.1)
            if let d = Self.hexValue(b) {
                guard value <= (Int.max - 15) / 16 else { throw Failure("a chunk size is too large") }
                value = value * 16 + d
                digits += 1
            } else if b == UInt8(ascii: ";") || b == 0x20 || b == 0x09 {
                guard digits > 0 else { throw Failure("a chunk has no size") }
                inExtension = true
            } else {
                throw Failure("invalid chunk size byte 0x\(String(b, radix: 16))")
            }
        }
        state = .chunkSize(value: value, digits: digits, lineBytes: lineBytes, inExtension: inExtension)
    }

    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: Int(b - 0x30)
        case 0x41...0x46: Int(b - 0x41 + 10)
        case 0x61...0x66: Int(b - 0x61 + 10)
        default: nil
        }
    }

    /// Trailer fields are read past (Plumb forwards none), up to the blank line.
    private mutating func readTrailers(_ buffer: inout ByteBuffer, _ emit: (Part) -> Void) throws {
        guard case .trailers(var lineBytes, var total) = state else { return }
        while let b = buffer.readInteger(as: UInt8.self) {
            total += 1
            guard total <= Self.maxTrailerBytes else { throw Failure("the trailer section is over \(Self.maxTrailerBytes >> 10) KiB") }
            if b == 0x0A {
                if lineBytes == 0 { return finish(emit) }
                lineBytes = 0
            } else if b != 0x0D || lineBytes > 0 {
                lineBytes += 1
            }
        }
        state = .trailers(lineBytes: lineBytes, total: total)
    }
}
