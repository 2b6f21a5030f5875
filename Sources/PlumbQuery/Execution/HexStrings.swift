/// A column of lowercase hex ids of one length (span, trace and key ids) as 64-bit words, as the
/// segment stores them: strings are built only for rows that are returned, and equality with a
/// constant compares words.
public struct HexStrings: Sendable {
    /// `words[k][i]`: the k-th 16 hex digits of row i.
    public var words: [[Int64]]
    public var length: Int

    public var count: Int { words.first?.count ?? 0 }

    public func string(_ i: Int) -> String {
        String(unsafeUninitializedCapacity: length) { buf in
            var k = 0
            for w in words {
                let x = UInt64(bitPattern: w[i])
                for shift in stride(from: 60, through: 0, by: -4) {
                    let d = UInt8((x >> UInt64(shift)) & 0xF)
                    buf[k] = d < 10 ? 0x30 + d : 0x57 + d
                    k += 1
                }
            }
            return length
        }
    }

    public func gather(_ indices: [Int]) -> HexStrings {
        HexStrings(words: words.map { w in indices.map { w[$0] } }, length: length)
    }

    /// The words of `s` if it is lowercase hex of this column's length; nil otherwise (then no
    /// row equals it).
    public func words(of s: String) -> [Int64]? {
        let b = Array(s.utf8)
        guard b.count == length else { return nil }
        var out: [Int64] = []
        for k in 0..<(length / 16) {
            var x: UInt64 = 0
            for j in 0..<16 {
                let c = b[k * 16 + j]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x61...0x66: d = c - 0x57
                default: return nil
                }
                x = x << 4 | UInt64(d)
            }
            out.append(Int64(bitPattern: x))
        }
        return out
    }
}
