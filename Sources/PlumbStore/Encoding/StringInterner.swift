#if canImport(Glibc)
import Glibc
#endif

/// Assigns each distinct string (by exact UTF-8 bytes) a dense code, in first-seen order.
/// An open-addressing table over a byte arena: far cheaper than `[String: Int]`, whose hashing
/// normalizes Unicode and which would merge canonically-equal strings with different bytes.
struct StringInterner {
    private(set) var arena: [UInt8] = []
    private(set) var offsets: [Int] = [0]          // entry i is arena[offsets[i]..<offsets[i+1]]
    private var hashes: [UInt64] = []
    private var slots: [Int32]
    private var mask: Int

    init(expected: Int = 64) {
        var cap = 64
        while cap < expected * 2 { cap <<= 1 }
        slots = [Int32](repeating: -1, count: cap)
        mask = cap - 1
    }

    var count: Int { hashes.count }

    @inline(__always) static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // 64-bit multiply-xorshift over 8-byte words (an FNV/wyhash-style mix; not cryptographic).
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        let raw = UnsafeRawBufferPointer(b)
        var i = 0
        while i + 8 <= b.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < b.count { tail |= UInt64(b[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }

    /// The code of `s`, adding it if new.
    @inline(__always) mutating func code(of s: String) -> Int {
        var s = s
        return s.withUTF8 { code(bytes: $0) }
    }

    mutating func code(bytes b: UnsafeBufferPointer<UInt8>) -> Int {
        let h = Self.hash(b)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { break }
            if hashes[e] == h {
                let start = offsets[e], len = offsets[e + 1] - start
                if len == b.count && (len == 0 || arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, b.baseAddress!, len) == 0 }) {
                    return e
                }
            }
            i = (i + 1) & mask
        }
        let e = hashes.count
        hashes.append(h)
        if let base = b.baseAddress { arena.append(contentsOf: UnsafeBufferPointer(start: base, count: b.count)) }
        offsets.append(arena.count)
        slots[i] = Int32(e)
        if hashes.count * 2 > slots.count { grow() }
        return e
    }

    private mutating func grow() {
        let cap = slots.count * 2
        slots = [Int32](repeating: -1, count: cap)
        mask = cap - 1
        for (e, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(e)
        }
    }

    func bytes(_ e: Int) -> ArraySlice<UInt8> { arena[offsets[e]..<offsets[e + 1]] }

    func string(_ e: Int) -> String { String(decoding: bytes(e), as: UTF8.self) }

    /// Entry codes ordered by their bytes.
    func sortedOrder() -> [Int] {
        arena.withUnsafeBufferPointer { a in
            (0..<count).sorted { x, y in
                let xs = offsets[x], xl = offsets[x + 1] - xs, ys = offsets[y], yl = offsets[y + 1] - ys
                let n = min(xl, yl)
                let c = n == 0 ? 0 : memcmp(a.baseAddress! + xs, a.baseAddress! + ys, n)
                return c != 0 ? c < 0 : xl < yl
            }
        }
    }
}
