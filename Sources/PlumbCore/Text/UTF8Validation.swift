/// Well-formed UTF-8 by the Unicode Standard's table 3-7 (no overlong forms, no surrogates,
/// nothing past U+10FFFF): what `String(validating:)` accepts, without making a String.
///
/// ```swift
/// UTF8Validation.isValid([0xE2, 0x82, 0xAC])   // "€": true
/// UTF8Validation.isValid([0xC0, 0xAF])         // an overlong "/": false
/// ```
public enum UTF8Validation {
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isValid($0) }
    }

    public static func isValid(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = b.count
        var i = 0
        while i < n {
            // ASCII eight bytes at a time.
            if i + 8 <= n, let base = b.baseAddress,
               UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
                i + k < n && b[i + k] >= lo && b[i + k] <= hi
            }
            switch c {
            case 0xC2...0xDF:
                guard cont(1) else { return false }
                i += 2
            case 0xE0:
                guard cont(1, 0xA0, 0xBF), cont(2) else { return false }
                i += 3
            case 0xE1...0xEC, 0xEE...0xEF:
                guard cont(1), cont(2) else { return false }
                i += 3
            case 0xED:
                guard cont(1, 0x80, 0x9F), cont(2) else { return false }
                i += 3
            case 0xF0:
                guard cont(1, 0x90, 0xBF), cont(2), cont(3) else { return false }
                i += 4
            case 0xF1...0xF3:
                guard cont(1), cont(2), cont(3) else { return false }
                i += 4
            case 0xF4:
                guard cont(1, 0x80, 0x8F), cont(2), cont(3) else { return false }
                i += 4
            default:
                return false
            }
        }
        return true
    }

    /// The bytes as a String when they are well-formed UTF-8. `String(validating:as:)` is generic
    /// over the encoding and is not specialized for UTF-8 in the standard library: it cost a
    /// proxied call's short strings more than the rest of their parse (issue 24). This checks
    /// eight ASCII bytes at a time and then makes the String from bytes known to be valid.
    public static func string(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        isValid(b) ? String(decoding: b, as: UTF8.self) : nil
    }

    public static func string(_ b: ArraySlice<UInt8>) -> String? {
        b.withUnsafeBufferPointer { string($0) }
    }

    /// Appends a scalar's UTF-8 (the caller has ruled out surrogates and values past U+10FFFF).
    public static func append(scalar v: UInt32, to out: inout [UInt8]) {
        switch v {
        case 0..<0x80:
            out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | v >> 6)); out.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | v >> 12)); out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        default:
            out.append(UInt8(0xF0 | v >> 18)); out.append(UInt8(0x80 | v >> 12 & 0x3F))
            out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        }
    }
}
