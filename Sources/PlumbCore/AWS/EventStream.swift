import CZlib

/// AWS's binary event-stream framing (`application/vnd.amazon.eventstream`; Smithy's "Amazon
/// event stream" specification), as Bedrock's streaming operations answer: each message is a
/// prelude (total length, headers length, CRC-32 of those 8 bytes), headers, payload, and a
/// CRC-32 of everything before it; integers are big-endian.
///
/// ```swift
/// var decoder = EventStreamDecoder()
/// for m in decoder.feed(bytes) { m.headers[":event-type"]; m.payload }
/// EventStreamMessage(headers: [(":event-type", "metadata")], payload: json).encoded()
/// ```
public struct EventStreamMessage: Sendable, Equatable {
    /// String-valued headers by name (`:message-type`, `:event-type`, `:content-type`,
    /// `:exception-type`); headers of other types are skipped.
    public var headers: [String: String]
    public var payload: [UInt8]

    public init(headers: [String: String], payload: [UInt8]) {
        self.headers = headers; self.payload = payload
    }

    /// The framed bytes, string headers in the order given.
    public static func encode(headers: [(String, String)], payload: [UInt8]) -> [UInt8] {
        var h = [UInt8]()
        for (name, value) in headers {
            h.append(UInt8(name.utf8.count)); h += name.utf8
            h.append(7)
            let v = Array(value.utf8)
            h += [UInt8(v.count >> 8), UInt8(v.count & 0xFF)]; h += v
        }
        let total = 12 + h.count + payload.count + 4
        var out = [UInt8]()
        out.reserveCapacity(total)
        EventStreamDecoder.appendUInt32(&out, UInt32(total))
        EventStreamDecoder.appendUInt32(&out, UInt32(h.count))
        EventStreamDecoder.appendUInt32(&out, EventStreamDecoder.crc32(out[...]))
        out += h
        out += payload
        EventStreamDecoder.appendUInt32(&out, EventStreamDecoder.crc32(out[...]))
        return out
    }
}

/// Reads messages from an event stream in whatever pieces it arrives. A message over
/// `maxMessageBytes`, a bad CRC or a malformed header stops the decoder for good (`failure`
/// says why): what follows cannot be framed again, and the caller records what it has.
public struct EventStreamDecoder: Sendable {
    public static let maxMessageBytes = 16 << 20
    var buffer: [UInt8] = []
    public private(set) var failure: String?

    public init() {}

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [EventStreamMessage] {
        guard failure == nil else { return [] }
        buffer.append(contentsOf: bytes)
        var out: [EventStreamMessage] = []
        var start = 0
        while buffer.count - start >= 12 {
            let total = Int(Self.uint32(buffer, start))
            let headersLength = Int(Self.uint32(buffer, start + 4))
            guard Self.crc32(buffer[start..<start + 8]) == Self.uint32(buffer, start + 8) else { return fail("prelude CRC mismatch") }
            guard total >= 16, total <= Self.maxMessageBytes, headersLength <= total - 16 else {
                return fail("message length \(total) with \(headersLength) bytes of headers is not a valid frame")
            }
            guard buffer.count - start >= total else { break }
            let end = start + total
            guard Self.crc32(buffer[start..<end - 4]) == Self.uint32(buffer, end - 4) else { return fail("message CRC mismatch") }
            guard let headers = Self.headers(buffer[start + 12..<start + 12 + headersLength]) else { return fail("malformed headers") }
            out.append(EventStreamMessage(headers: headers, payload: Array(buffer[start + 12 + headersLength..<end - 4])))
            start = end
        }
        buffer.removeFirst(start)
        return out

        func fail(_ why: String) -> [EventStreamMessage] {
            failure = why
            buffer = []
            return out
        }
    }

    public mutating func feed(_ bytes: [UInt8]) -> [EventStreamMessage] { bytes.withUnsafeBytes { feed($0) } }

    /// Bytes of an unfinished message held at the end of the stream.
    public var pendingBytes: Int { buffer.count }

    static func headers(_ h: ArraySlice<UInt8>) -> [String: String]? {
        var out: [String: String] = [:]
        var i = h.startIndex
        func need(_ n: Int) -> Bool { h.endIndex - i >= n }
        while i < h.endIndex {
            let nameLength = Int(h[i]); i += 1
            guard nameLength > 0, need(nameLength + 1) else { return nil }
            let name = String(decoding: h[i..<i + nameLength], as: UTF8.self); i += nameLength
            let type = h[i]; i += 1
            switch type {
            case 0, 1: break
            case 2: guard need(1) else { return nil }; i += 1
            case 3: guard need(2) else { return nil }; i += 2
            case 4: guard need(4) else { return nil }; i += 4
            case 5, 8: guard need(8) else { return nil }; i += 8
            case 9: guard need(16) else { return nil }; i += 16
            case 6, 7:
                guard need(2) else { return nil }
                let n = Int(h[i]) << 8 | Int(h[i + 1]); i += 2
                guard need(n) else { return nil }
                if type == 7 { out[name] = String(decoding: h[i..<i + n], as: UTF8.self) }
                i += n
            default: return nil
            }
        }
        return out
    }

    static func uint32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    static func appendUInt32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// CRC-32 (IEEE, zlib's), as the framing uses.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(CZlib.crc32(0, $0.baseAddress, UInt32($0.count))) }
    }
}
