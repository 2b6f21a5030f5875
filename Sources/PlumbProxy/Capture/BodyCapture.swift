import PlumbStore

/// Keeps the first `cap` bytes of a body for storage and counts all of them. A body over the cap
/// is stored cut at the cap (on a UTF-8 boundary) and marked truncated in the span's properties.
///
/// ```swift
/// var body = BodyCapture(cap: 1 << 20)
/// body.append(chunk)          // as the bytes pass through
/// span.responseBody = body.text
/// ```
/// What is kept waits for the call's end, which for a stream is seconds or minutes away, and a
/// proxy holds thousands at once: every `blockBytes` kept are LZ4-compressed as they fill
/// (8,000 streams of 300 chunks held 73 KB each uncompressed, 584 MB together; an SSE stream's
/// chunks repeat their keys and shrink several times). Each packed block is its own array of
/// exactly its size: one growing array held up to twice what it used.
struct BodyCapture {
    let cap: Int
    /// Kept bytes not yet packed: fewer than `blockBytes`.
    private var tail: [UInt8] = []
    /// Full blocks: each LZ4-compressed, or as it was when that did not shrink it.
    private var blocks: [Block] = []
    private(set) var kept = 0
    private(set) var total = 0

    private struct Block {
        let bytes: [UInt8]
        let size: Int           // unpacked
        var compressed: Bool { bytes.count < size }
    }

    /// 4 KiB: an SSE stream's chunks repeat within a few hundred bytes, so a smaller block packs
    /// nearly as well, and the unpacked tail every stream holds is half as large.
    static let blockBytes = 4 << 10

    init(cap: Int) { self.cap = cap }

    mutating func append<C: Collection>(_ chunk: C) where C.Element == UInt8 {
        total += chunk.count
        var rest = chunk.prefix(max(0, cap - kept))
        kept += rest.count
        while !rest.isEmpty {
            let take = rest.prefix(Self.blockBytes - tail.count)
            tail.append(contentsOf: take)
            rest = rest.dropFirst(take.count)
            if tail.count == Self.blockBytes { pack() }
        }
    }

    private mutating func pack() {
        var out: [UInt8] = []
        let size = tail.withUnsafeBytes { LZ4.compress($0, appendingTo: &out) }
        blocks.append(Block(bytes: size < tail.count ? out : tail, size: tail.count))
        tail.removeAll(keepingCapacity: true)
    }

    var truncated: Bool { total > kept }

    /// Every kept byte, in order.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(kept)
        for b in blocks {
            guard b.compressed else { out.append(contentsOf: b.bytes); continue }
            // Our own blocks, compressed a moment ago in this process: they decompress.
            b.bytes.withUnsafeBytes { out.append(contentsOf: (try? LZ4.decompress($0, originalSize: b.size)) ?? []) }
        }
        out.append(contentsOf: tail)
        return out
    }

    /// The kept bytes as text, without a UTF-8 sequence cut in half at the cap.
    var text: String {
        // A body under a block (most calls) is all in `tail`: no copy to gather it first.
        blocks.isEmpty ? Self.text(tail, truncated: truncated) : Self.text(bytes, truncated: truncated)
    }

    private static func text(_ bytes: [UInt8], truncated: Bool) -> String {
        var end = bytes.count
        if truncated {
            var i = end, continuation = 0
            while i > 0, continuation < 3, bytes[i - 1] & 0xC0 == 0x80 { i -= 1; continuation += 1 }
            if i > 0, bytes[i - 1] >= 0xC0 {
                let lead = bytes[i - 1]
                let needed = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1
                if continuation < needed { end = i - 1 }
            }
        }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// Bytes this capture holds in memory now (its buffers' capacities).
    var heldBytes: Int { tail.capacity + blocks.reduce(0) { $0 + $1.bytes.capacity } + blocks.capacity * MemoryLayout<Block>.stride }
}
