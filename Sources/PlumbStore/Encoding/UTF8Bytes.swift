#if canImport(Glibc)
import Glibc
#endif

/// Byte-wise comparisons of strings. Swift's `==` and `<` follow Unicode canonical equivalence;
/// the store must keep and order exact bytes, and memcmp on the UTF-8 is also much faster.
public enum UTF8Bytes {
    @inline(__always) public static func compare(_ a: String, _ b: String) -> Int32 {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                if c != 0 { return c }
                return x.count < y.count ? -1 : (x.count > y.count ? 1 : 0)
            }
        }
    }

    @inline(__always) public static func less(_ a: String, _ b: String) -> Bool { compare(a, b) < 0 }

    @inline(__always) public static func equal(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && compare(a, b) == 0
    }
}

extension UTF8Bytes {
    /// Whether every byte is below 0x80 (then the bytes are valid UTF-8 as they are).
    @inline(__always) public static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = b.baseAddress.map(UnsafeRawPointer.init) else { return true }
        var high: UInt64 = 0, i = 0
        while i + 8 <= b.count { high |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self); i += 8 }
        while i < b.count { high |= UInt64(b[i]); i += 1 }
        return high & 0x8080_8080_8080_8080 == 0
    }
}
