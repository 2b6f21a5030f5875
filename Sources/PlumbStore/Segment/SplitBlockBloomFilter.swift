/// A split-block Bloom filter (the layout Parquet specifies: 256-bit blocks of eight 32-bit
/// words, one block per key, one bit per word set by eight salted multiplications), over the
/// span ids of one row group. Ids imported from other systems are random, so min/max zone maps
/// cannot skip a row group for `span_id = '…'`; the filter can, reading one 32-byte block.
/// Never a false negative; about 0.5% false positives at 12 bits a key.
///
/// ```swift
/// var f = SplitBlockBloomFilter(keys: 65_536)
/// f.insert(SplitBlockBloomFilter.hash("0b3ca931…"))
/// f.mightContain(SplitBlockBloomFilter.hash("0b3ca931…"))     // true
/// SplitBlockBloomFilter.bytesMightContain(f.bytes, h)         // as a lookup checks the stored bytes
/// ```
public struct SplitBlockBloomFilter: Sendable, Equatable {
    public static let bytesPerBlock = 32
    static let bitsPerKey = 12
    // The salts of Parquet's split-block Bloom filter (parquet-format BloomFilter.md).
    static let salt: [UInt32] = [0x47b6_137b, 0x4497_4d91, 0x8824_ad5b, 0xa2b7_289d, 0x7054_95c7, 0x2df1_424b, 0x9efc_4947, 0x5c6b_fb31]

    /// The filter's words, block after block (little-endian on disk).
    public private(set) var words: [UInt32]

    public var blockCount: Int { words.count / 8 }

    /// An empty filter sized for `keys` keys.
    public init(keys: Int) {
        let blocks = max(1, (keys * Self.bitsPerKey + 255) / 256)
        words = Array(repeating: 0, count: blocks * 8)
    }

    /// A filter read back from its bytes (a whole number of blocks).
    public init?(bytes: [UInt8]) {
        guard !bytes.isEmpty, bytes.count % Self.bytesPerBlock == 0 else { return nil }
        words = stride(from: 0, to: bytes.count, by: 4).map { Self.word(bytes, at: $0) }
    }

    /// The words little-endian, one copy (not four bytes appended per word: 24,576 words a full row group).
    public var bytes: [UInt8] { words.map(\.littleEndian).withUnsafeBytes { Array($0) } }

    /// The 64-bit hash of a key's UTF-8 bytes: FNV-1a, then MurmurHash3's finaliser to spread
    /// its high bits (the block index comes from them).
    public static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        h ^= h >> 33; h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33; h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    public static func hash(_ key: String) -> UInt64 {
        var key = key
        return key.withUTF8 { hash($0) }
    }

    /// Which block a hash falls in, for a filter of `blocks` blocks.
    public static func blockIndex(_ h: UInt64, blocks: Int) -> Int { Int(((h >> 32) &* UInt64(blocks)) >> 32) }

    @inline(__always) static func bit(_ h: UInt64, _ i: Int) -> UInt32 {
        1 << ((UInt32(truncatingIfNeeded: h) &* salt[i]) >> 27)
    }

    public mutating func insert(_ h: UInt64) {
        let base = Self.blockIndex(h, blocks: blockCount) * 8
        for i in 0..<8 { words[base + i] |= Self.bit(h, i) }
    }

    public func mightContain(_ h: UInt64) -> Bool {
        let base = Self.blockIndex(h, blocks: blockCount) * 8
        for i in 0..<8 where words[base + i] & Self.bit(h, i) == 0 { return false }
        return true
    }

    /// Whether a filter stored as `bytes` (as written) might hold the hash, reading only the
    /// hash's block: what a lookup checks without decoding the filter.
    public static func bytesMightContain(_ bytes: [UInt8], _ h: UInt64) -> Bool {
        let blocks = bytes.count / bytesPerBlock
        guard blocks > 0 else { return true }
        let base = blockIndex(h, blocks: blocks) * bytesPerBlock
        for i in 0..<8 where word(bytes, at: base + 4 * i) & bit(h, i) == 0 { return false }
        return true
    }

    @inline(__always) static func word(_ b: [UInt8], at i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}

extension SplitBlockBloomFilter {
    /// The filter of a span_id column's values (nulls, which span ids never are, left out).
    public init(spanIDs column: ColumnVector) {
        self.init(keys: column.count)
        guard case .string(let ids) = column.values else { return }
        for (i, id) in ids.enumerated() where !column.isNull(i) { insert(Self.hash(id)) }
    }
}
