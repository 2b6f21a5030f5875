#if canImport(Glibc)
import Glibc
#endif

/// Assigns each distinct string (by exact UTF-8 bytes) a dense code, in first-seen order.
/// An open-addressing table over a byte arena: far cheaper than `[String: Int]`, whose hashing
/// normalizes Unicode and which would merge canonically-equal strings with different bytes.
/// The write path keeps one per dictionary column across row groups, so it stays warm.
///
/// ```swift
/// var d = StringInterner()
/// d.code(of: "gpt-4o")      // 0
/// d.code(of: "claude")      // 1
/// d.code(of: "gpt-4o")      // 0
/// d.sortedOrder()           // [1, 0]
/// ```
struct StringInterner: ~Copyable {
    private var arena = ColumnBuffer<UInt8>(capacity: 4096)
    private var ends = ColumnBuffer<Int>()          // entry i is arena[ends[i-1] (or 0)..<ends[i]]
    private var hashes = ColumnBuffer<UInt64>()
    /// Open addressing: a slot is the entry's hash in its high half and code + 1 in its low half
    /// (0: empty), so a probe rejects most other strings without touching them.
    private var slots: UnsafeMutablePointer<UInt64>
    private var mask: Int

    /// `expected` sizes the table; it grows as needed. Small tables matter: a column of a few
    /// values probes a few cache lines, not a few hundred.
    init(expected: Int = 64) {
        var cap = 16
        while cap < expected * 2 { cap <<= 1 }
        slots = .allocate(capacity: cap)
        slots.initialize(repeating: 0, count: cap)
        mask = cap - 1
    }

    deinit { slots.deallocate() }

    var count: Int { hashes.count }

    /// Bytes of all entries together (what a dictionary page stores).
    var byteCount: Int { arena.count }

    @inline(__always) static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // 64-bit multiply-xorshift over 8-byte words (an FNV/wyhash-style mix; not cryptographic).
        // The last word overlaps the one before it, and short strings are read in two overlapping
        // halves, so no byte is read one at a time.
        let n = b.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
        guard n > 0, let p = b.baseAddress.map(UnsafeRawPointer.init) else { return h }
        var last: UInt64
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 32
                i += 8
            }
            last = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            last = UInt64(p.loadUnaligned(as: UInt32.self)) << 32 | UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        } else {
            last = UInt64(b[0]) << 16 | UInt64(b[n >> 1]) << 8 | UInt64(b[n - 1])
        }
        h = (h ^ last) &* 0xC4CE_B9FE_1A85_EC53
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
        let tag = h & 0xFFFF_FFFF_0000_0000
        while true {
            let slot = slots[i]
            if slot == 0 { break }
            if slot & 0xFFFF_FFFF_0000_0000 == tag {
                let e = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) &- 1
                if Self.equal(bytes(e), b) { return e }
            }
            i = (i &+ 1) & mask
        }
        let e = hashes.count
        hashes.append(h)
        arena.append(bytes: b)
        ends.append(arena.count)
        slots[i] = tag | UInt64(e + 1)
        if hashes.count * 2 > mask + 1 { grow() }
        return e
    }

    /// Equal bytes; short strings (most dictionary values) are compared without a call.
    @inline(__always) static func equal(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = x.count
        guard n == y.count else { return false }
        guard n > 0 else { return true }
        let a = UnsafeRawPointer(x.baseAddress!), b = UnsafeRawPointer(y.baseAddress!)
        @inline(__always) func word(_ at: Int) -> Bool {
            a.loadUnaligned(fromByteOffset: at, as: UInt64.self) == b.loadUnaligned(fromByteOffset: at, as: UInt64.self)
        }
        if n >= 8 && n <= 32 {     // overlapping words cover it
            return word(0) && word(n - 8) && (n <= 16 || (word(8) && word(n - 16)))
        }
        return memcmp(a, b, n) == 0
    }

    private mutating func grow() {
        let cap = (mask + 1) * 2
        slots.deallocate()
        slots = .allocate(capacity: cap)
        slots.initialize(repeating: 0, count: cap)
        mask = cap - 1
        for e in 0..<hashes.count {
            let h = hashes.base[e]
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] != 0 { i = (i &+ 1) & mask }
            slots[i] = h & 0xFFFF_FFFF_0000_0000 | UInt64(e + 1)
        }
    }

    /// Forgets every entry, keeping the memory.
    mutating func removeAll() {
        slots.update(repeating: 0, count: mask + 1)
        arena.removeAll(); ends.removeAll(); hashes.removeAll()
    }

    /// Entry `e`'s bytes; valid until the next entry is added.
    @inline(__always) func bytes(_ e: Int) -> UnsafeBufferPointer<UInt8> {
        let start = e == 0 ? 0 : ends.base[e &- 1]
        return UnsafeBufferPointer(start: arena.base + start, count: ends.base[e] &- start)
    }

    @inline(__always) func length(_ e: Int) -> Int { ends.base[e] &- (e == 0 ? 0 : ends.base[e &- 1]) }

    func string(_ e: Int) -> String { String(decoding: bytes(e), as: UTF8.self) }

    /// Entry codes ordered by their bytes.
    func sortedOrder() -> [Int] { sortedOrder(of: Array(0..<count)) }

    /// `entries` ordered by their bytes.
    func sortedOrder(of entries: [Int]) -> [Int] {
        entries.sorted { ByteStrings.Values.less(bytes($0), bytes($1)) }
    }
}
