import CCrypto

/// SHA-256 and HMAC-SHA256 from the system's libcrypto (OpenSSL).
///
/// ```swift
/// SHA256.hex(Array("abc".utf8))   // "ba7816bf…"
/// ```
public enum SHA256 {
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = out.withUnsafeMutableBufferPointer { o in
            CCrypto.SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, o.baseAddress)
        }
        return out
    }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { digest($0) }
    }

    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(digest(bytes)) }

    public static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 32
        key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                _ = out.withUnsafeMutableBufferPointer { o in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, o.baseAddress, &len)
                }
            }
        }
        return out
    }
}

/// Streaming SHA-256 for files too large to hold at once (OpenSSL's EVP digest interface).
public final class SHA256Hasher {
    private let ctx: OpaquePointer

    public init() {
        ctx = EVP_MD_CTX_new()
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count)
    }

    public func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 32
        _ = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(ctx, $0.baseAddress, &len) }
        return out
    }
}

public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8](); out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `v` as 16 lowercase hex digits, most significant first.
    public static func string(_ v: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { out in write(v, into: out, at: 0); return 16 }
    }

    /// Writes `v` as 16 lowercase hex digits at `offset` (no allocation: span ids are made per call).
    @inline(__always) public static func write(_ v: UInt64, into out: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        for i in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: v >> (60 - 4 * UInt64(i))) & 0xF
            out[offset + i] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
        }
    }

    /// Lowercase or uppercase hex to bytes; nil on any other character or odd length.
    public static func decode(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out = [UInt8](); out.reserveCapacity(u.count / 2)
        var k = 0
        while k < u.count {
            guard let hi = nibble(u[k]), let lo = nibble(u[k + 1]) else { return nil }
            out.append(hi << 4 | lo); k += 2
        }
        return out
    }

    @inline(__always) public static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}
