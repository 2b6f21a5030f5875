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

    /// Span ids for one producer (a connection, a generator thread): random bits from a
    /// xoshiro256** stream seeded once from the system generator, instead of two `getrandom`
    /// calls per id. Ids only need to be unique, and 74 random bits per millisecond are.
    ///
    /// ```swift
    /// var ids = SpanID.Generator()
    /// let id = ids.next(atMicros: Timestamp.nowMicros())
    /// ```
    public struct Generator: Sendable {
        var s: (UInt64, UInt64, UInt64, UInt64)

        public init() {
            var system = SystemRandomNumberGenerator()
            s = (system.next(), system.next(), system.next(), system.next())
            if s == (0, 0, 0, 0) { s.0 = 1 }     // the one state xoshiro cannot leave
        }

        public mutating func next(atMicros micros: Int64) -> String {
            SpanID.make(millis: UInt64(max(0, micros / 1000)), random: random(), random())
        }

        /// xoshiro256** (Blackman and Vigna, https://prng.di.unimi.it/).
        mutating func random() -> UInt64 {
            let result = (s.1 &* 5).rotatedLeft(7) &* 9
            let t = s.1 << 17
            s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
            s.2 ^= t
            s.3 = s.3.rotatedLeft(45)
            return result
        }
    }

    /// 48 bits of milliseconds, version 7, 12 random bits, variant 0b10, 62 random bits.
    public static func make(millis: UInt64, random a: UInt64, _ b: UInt64) -> String {
        let hi = (millis & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | (a & 0x0FFF)
        let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 32) { out in
            Hex.write(hi, into: out, at: 0)
            Hex.write(lo, into: out, at: 16)
            return 32
        }
    }

    public static func timestampMillis(of id: String) -> UInt64? {
        guard id.utf8.count == 32, let v = UInt64(id.prefix(12), radix: 16) else { return nil }
        return v
    }

}

extension UInt64 {
    @inline(__always) func rotatedLeft(_ k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}
