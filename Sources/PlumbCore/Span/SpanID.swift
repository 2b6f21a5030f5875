/// Time-ordered 128-bit span ids in UUIDv7 layout (RFC 9562 §5.7), written as 32 lowercase hex digits.
///
/// ```swift
/// let id = SpanID.generate()                 // "019a8f3c2b1e7a4c8d9e0f1a2b3c4d5e"
/// SpanID.timestampMillis(of: id)             // when it was made
/// ```
public enum SpanID {
    public static func generate(atMicros micros: Int64 = Timestamp.nowMicros()) -> String {
        var rng = SystemRandomNumberGenerator()
        return make(millis: UInt64(max(0, micros / 1000)), random: rng.next(), rng.next())
    }

    /// 48 bits of milliseconds, version 7, 12 random bits, variant 0b10, 62 random bits.
    public static func make(millis: UInt64, random a: UInt64, _ b: UInt64) -> String {
        let hi = (millis & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | (a & 0x0FFF)
        let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return hex64(hi) + hex64(lo)
    }

    public static func timestampMillis(of id: String) -> UInt64? {
        guard id.utf8.count == 32, let v = UInt64(id.prefix(12), radix: 16) else { return nil }
        return v
    }

    static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
