import NIOCore

/// A Redis reply (RESP2): simple string, error, integer, bulk string (nil: a null bulk), array
/// (nil: a null array).
enum RESPValue: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8]?)
    case array([RESPValue]?)

    var int: Int64? {
        switch self {
        case .integer(let i): i
        case .bulk(let b?): Int64(String(decoding: b, as: UTF8.self))
        default: nil
        }
    }

    /// A command as RESP: an array of bulk strings.
    static func command(_ parts: [String], into out: inout ByteBuffer) {
        out.writeString("*\(parts.count)\r\n")
        for p in parts {
            out.writeString("$\(p.utf8.count)\r\n")
            out.writeString(p)
            out.writeStaticString("\r\n")
        }
    }
}

/// Reads RESP2 replies from bytes as they arrive, with bounds: a reply from a misbehaving or
/// hostile server cannot make Plumb hold more than `maxBulk` bytes in a string, `maxElements`
/// elements in an array, or nest past `maxDepth`.
///
/// ```swift
/// var d = RESPDecoder()
/// d.feed(bytes)
/// while let reply = try d.next() { … }
/// ```
struct RESPDecoder {
    static let maxBulk = 1 << 20
    static let maxElements = 1024
    static let maxDepth = 8
    static let maxLine = 64 << 10

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    private var buffer: [UInt8] = []
    private var start = 0

    mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, or nil until more bytes arrive.
    mutating func next() throws -> RESPValue? {
        var i = start
        guard let v = try parse(&i, depth: 0) else {
            if buffer.count - start > Self.maxBulk + Self.maxLine * 2 && !buffer[start...].contains(UInt8(ascii: "\n")) {
                throw Malformed(description: "a reply line is over \(Self.maxLine) bytes")
            }
            return nil
        }
        start = i
        if start > 1 << 16 { buffer.removeFirst(start); start = 0 }
        return v
    }

    private func line(_ i: inout Int) throws -> String? {
        var j = i
        while j + 1 < buffer.count {
            if buffer[j] == 0x0D && buffer[j + 1] == 0x0A {
                let s = String(decoding: buffer[i..<j], as: UTF8.self)
                i = j + 2
                return s
            }
            j += 1
            if j - i > Self.maxLine { throw Malformed(description: "a reply line is over \(Self.maxLine) bytes") }
        }
        return nil
    }

    private func parse(_ i: inout Int, depth: Int) throws -> RESPValue? {
        guard depth <= Self.maxDepth else { throw Malformed(description: "replies nested more than \(Self.maxDepth) deep") }
        guard i < buffer.count else { return nil }
        let kind = buffer[i]
        var j = i + 1
        guard let text = try line(&j) else { return nil }
        switch kind {
        case UInt8(ascii: "+"): i = j; return .simple(text)
        case UInt8(ascii: "-"): i = j; return .error(text)
        case UInt8(ascii: ":"):
            guard let n = Int64(text) else { throw Malformed(description: "integer reply '\(text.prefix(40))' is not a number") }
            i = j; return .integer(n)
        case UInt8(ascii: "$"):
            guard let n = Int(text), n >= -1 else { throw Malformed(description: "bulk length '\(text.prefix(40))' is not a length") }
            if n == -1 { i = j; return .bulk(nil) }
            guard n <= Self.maxBulk else { throw Malformed(description: "a bulk reply of \(n) bytes is over \(Self.maxBulk)") }
            guard buffer.count >= j + n + 2 else { return nil }
            guard buffer[j + n] == 0x0D && buffer[j + n + 1] == 0x0A else { throw Malformed(description: "a bulk reply does not end in CRLF") }
            let bytes = Array(buffer[j..<j + n])
            i = j + n + 2
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            guard let n = Int(text), n >= -1 else { throw Malformed(description: "array length '\(text.prefix(40))' is not a length") }
            if n == -1 { i = j; return .array(nil) }
            guard n <= Self.maxElements else { throw Malformed(description: "an array reply of \(n) elements is over \(Self.maxElements)") }
            var items: [RESPValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n {
                guard let v = try parse(&j, depth: depth + 1) else { return nil }
                items.append(v)
            }
            i = j
            return .array(items)
        default:
            throw Malformed(description: "reply type byte 0x\(String(kind, radix: 16)) is not RESP2")
        }
    }
}
