import CZlib

/// gzip (RFC 1952) through zlib, for request bodies that exporters send with
/// `Content-Encoding: gzip`, and for reading such bodies back in tests.
///
/// ```swift
/// let packed = try Gzip.compress(Array("hello".utf8))
/// try Gzip.decompress(packed, limit: 1 << 20)   // the bytes of "hello"
/// ```
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Level 1 to 9; 6 is zlib's default. Level 1 is about 3x faster at a few percent more size,
    /// which suits spans sent every second.
    public static func compress(_ input: [UInt8], level: Int32 = 1) throws -> [UInt8] {
        guard input.count < 1 << 31 else { throw Failure(description: "gzip: \(input.count) bytes is more than one request may carry") }
        var s = z_stream()
        guard plumb_deflate_init_gzip(&s, level) == Z_OK else { throw Failure(description: "zlib: deflateInit2 failed") }
        defer { deflateEnd(&s) }
        let bound = Int(deflateBound(&s, uLong(input.count))) + 32
        var out = [UInt8](repeating: 0, count: bound)
        let rc: Int32 = input.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                s.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
                s.avail_in = uInt(inp.count)
                s.next_out = o.baseAddress
                s.avail_out = uInt(o.count)
                return deflate(&s, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { throw Failure(description: "zlib: deflate returned \(rc)") }
        out.removeSubrange(Int(s.total_out)...)
        return out
    }

    /// Inflates a gzip member; more than `limit` bytes of output is an error (a small body must
    /// not expand into gigabytes).
    public static func decompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        var s = z_stream()
        guard plumb_inflate_init_gzip(&s) == Z_OK else { throw Failure(description: "zlib: inflateInit2 failed") }
        defer { inflateEnd(&s) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        return try input.withUnsafeBufferPointer { inp in
            s.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            s.avail_in = uInt(inp.count)
            while true {
                let rc: Int32 = chunk.withUnsafeMutableBufferPointer { c in
                    s.next_out = c.baseAddress
                    s.avail_out = uInt(c.count)
                    return inflate(&s, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(s.avail_out)
                guard out.count + produced <= limit else { throw Failure(description: "gzip body inflates past \(limit) bytes") }
                out += chunk[..<produced]
                if rc == Z_STREAM_END { return out }
                guard rc == Z_OK else { throw Failure(description: "not a valid gzip body (zlib \(rc))") }
                if s.avail_in == 0 && produced == 0 { throw Failure(description: "gzip body is truncated") }
            }
        }
    }
}

extension LinkedLibrary {
    /// gzip for exporters' request bodies.
    public static var zlib: LinkedLibrary { LinkedLibrary(name: "zlib", version: String(cString: zlibVersion())) }
}
