import NIOHTTP1

/// An upstream's response head as it came: its bytes, and where the reason phrase and each
/// field's name and value lie in them. Plumb forwards a head with a few fields left out and
/// a few added (`ClientResponseWriter.forwardedHead`), so it never needs a `String` per field;
/// building `HTTPHeaders` and encoding them again was a tenth of a proxied call's own CPU
/// (issue 24). `headers` builds them for tests and the fuzz differential.
///
/// ```swift
/// let head = try UpstreamResponseHead(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".utf8))
/// head.code                                   // 200
/// head.values(of: "content-length")          // ["2"]
/// ```
struct UpstreamResponseHead {
    struct Field {
        let name: Range<Int>
        let value: Range<Int>
    }

    /// The status line and field lines, without the blank line that ends the head.
    let bytes: [UInt8]
    let code: Int
    /// `HTTP/1.x`: x.
    let minorVersion: Int
    let reason: Range<Int>
    let fields: [Field]

    typealias Failure = UpstreamResponseParser.Failure

    /// Parses and checks `HTTP/1.x SP 3DIGIT SP reason` and the fields (`name: value`, no obsolete
    /// line folding; white space around a value is not part of it, RFC 9110 §5.5).
    init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        var fields: [Field] = []
        fields.reserveCapacity(16)      // grown one by one, a dozen fields cost four allocations
        var start = 0, lineNumber = 0
        var code = 0, minor = 0, reason = 0..<0
        try bytes.withUnsafeBufferPointer { p in
            while start < p.count {
                var end = start
                while end < p.count && p[end] != 0x0A { end += 1 }
                let next = end + 1
                if end > start && p[end - 1] == 0x0D { end -= 1 }
                if lineNumber == 0 {
                    (code, minor, reason) = try Self.statusLine(p, start..<end)
                } else if end > start {
                    guard fields.count < UpstreamResponseParser.maxHeaderFields else {
                        throw Failure("more than \(UpstreamResponseParser.maxHeaderFields) header fields")
                    }
                    fields.append(try Self.field(p, start..<end))
                }
                lineNumber += 1
                start = next
            }
        }
        guard lineNumber > 0 else { throw Failure("no status line") }
        self.code = code
        self.minorVersion = minor
        self.reason = reason
        self.fields = fields
    }

    private static func statusLine(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws -> (Int, Int, Range<Int>) {
        let s = p[r]
        let a = r.lowerBound
        guard s.count >= 12, s.prefix(7).elementsEqual("HTTP/1.".utf8), p[a + 7] == 0x30 || p[a + 7] == 0x31, p[a + 8] == 0x20,
              s[(a + 9)...(a + 11)].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), s.count == 12 || p[a + 12] == 0x20 else {
            throw Failure("invalid status line \"\(UpstreamResponseParser.printable(s.prefix(60)))\"")
        }
        let code = Int(p[a + 9] - 0x30) * 100 + Int(p[a + 10] - 0x30) * 10 + Int(p[a + 11] - 0x30)
        guard code >= 100 else { throw Failure("invalid status code \(code)") }
        let reason = s.count > 13 ? (a + 13)..<r.upperBound : r.upperBound..<r.upperBound
        guard p[reason].allSatisfy(Self.isValueByte) else { throw Failure("invalid reason phrase") }
        return (code, Int(p[a + 7] - 0x30), reason)
    }

    /// One `name: value` line: the name a token, the value without CR, LF, NUL or other controls.
    private static func field(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws -> Field {
        var colon = r.lowerBound
        while colon < r.upperBound && p[colon] != UInt8(ascii: ":") { colon += 1 }
        guard colon < r.upperBound, colon > r.lowerBound else {
            throw Failure("invalid header line \"\(UpstreamResponseParser.printable(p[r].prefix(60)))\"")
        }
        let name = r.lowerBound..<colon
        guard p[name].allSatisfy(UpstreamResponseParser.isTokenByte) else {
            throw Failure("invalid header name \"\(UpstreamResponseParser.printable(p[name].prefix(60)))\"")
        }
        let value = trimmed(p, (colon + 1)..<r.upperBound)
        guard p[value].allSatisfy(Self.isValueByte) else {
            throw Failure("invalid value in header \"\(UpstreamResponseParser.printable(p[name].prefix(60)))\"")
        }
        return Field(name: name, value: value)
    }

    /// `range` without the spaces and tabs at either end (RFC 9110 §5.6.3 OWS).
    static func trimmed<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, _ range: Range<Int>) -> Range<Int> where Bytes.Index == Int {
        var a = range.lowerBound, b = range.upperBound
        while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
        while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
        return a..<b
    }

    static func isValueByte(_ c: UInt8) -> Bool { c == 0x09 || (c >= 0x20 && c != 0x7F) }

    // MARK: Reading fields

    /// Whether `field`'s name is `lower` (ASCII, lower case), in any case.
    func name(of field: Field, is lower: StaticString) -> Bool {
        ASCIICase.equals(bytes[field.name], lower)
    }

    func value(of field: Field) -> ArraySlice<UInt8> { bytes[field.value] }

    /// The list elements of every `lower` field, in order, trimmed, empty ones left out (RFC 9110
    /// §5.6.1), as NIO's `headers[canonicalForm:]` gives them; handed on one by one, so that
    /// reading a head's framing allocates nothing.
    func forEachElement(of lower: StaticString, _ body: (ArraySlice<UInt8>) -> Void) {
        for f in fields where name(of: f, is: lower) {
            var start = f.value.lowerBound
            while start <= f.value.upperBound {
                var end = start
                while end < f.value.upperBound && bytes[end] != UInt8(ascii: ",") { end += 1 }
                let element = Self.trimmed(bytes, start..<end)
                if !element.isEmpty { body(bytes[element]) }
                start = end + 1
            }
        }
    }

    /// The elements `forEachElement` hands on, as a list (tests, the fuzz differential).
    func values(of lower: StaticString) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        forEachElement(of: lower) { out.append($0) }
        return out
    }

    /// The first `lower` field's value.
    func first(_ lower: StaticString) -> ArraySlice<UInt8>? {
        fields.first { name(of: $0, is: lower) }.map { bytes[$0.value] }
    }

    /// The connection stays open after this response (RFC 9112 §9.3): HTTP/1.1 unless a
    /// `Connection` field says `close`; HTTP/1.0 only when one says `keep-alive`.
    var isKeepAlive: Bool {
        var close = false, keepAlive = false
        forEachElement(of: "connection") { token in
            if ASCIICase.equals(token, "close") { close = true } else if ASCIICase.equals(token, "keep-alive") { keepAlive = true }
        }
        return minorVersion >= 1 ? !close : keepAlive
    }

    /// As NIO's types (tests, the fuzz differential, and what is not on the hot path).
    var status: HTTPResponseStatus {
        HTTPResponseStatus(statusCode: code, reasonPhrase: String(decoding: bytes[reason], as: UTF8.self))
    }

    var headers: HTTPHeaders {
        HTTPHeaders(fields.map { (String(decoding: bytes[$0.name], as: UTF8.self), String(decoding: bytes[$0.value], as: UTF8.self)) })
    }
}
