/// Case-insensitive comparison of HTTP tokens (field names, codings, media types) with a
/// lower-case literal, byte by byte: a `lowercased()` copy per field name was a large part of
/// reading a request's headers (issue 24). Only ASCII letters fold; any other byte must match.
///
/// ```swift
/// ASCIICase.equals("Content-Length".utf8, "content-length")    // true
/// ASCIICase.hasPrefix("Plumb-User-Id".utf8, "plumb-")            // true
/// ```
enum ASCIICase {
    @inline(__always) static func fold(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }

    static func equals<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ lower: StaticString) -> Bool {
        bytes.count == lower.utf8CodeUnitCount && hasPrefix(bytes, lower)
    }

    static func hasPrefix<Bytes: Sequence<UInt8>>(_ bytes: Bytes, _ lower: StaticString) -> Bool {
        lower.withUTF8Buffer { want in
            var it = bytes.makeIterator()
            for w in want {
                guard let c = it.next(), fold(c) == w else { return false }
            }
            return true
        }
    }
}
