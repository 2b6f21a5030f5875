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
/// chunks repeat their keys and shrink several times).
struct BodyCapture {
    let cap: Int
    /// Kept bytes not yet packed: fewer than `blockBytes`.
    private var tail: [UInt8] = []
    /// Full blocks, back to back: each LZ4-compressed, or as it was when that did not shrink it.
    private var packed: [UInt8] = []
    private var blocks: [Block] = []
    private(set) var kept = 0
    private(set) var total = 0

    private struct Block {
        let end: Int            // in `packed`
        let size: Int           // unpacked
        let compressed: Bool
    }

    static let blockBytes = 8 << 10

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
        let start = packed.count
        let size = tail.withUnsafeBytes { LZ4.compress($0, appendingTo: &packed) }
        var compressed = true
        if size >= tail.count {
            packed.removeSubrange(start...)
            packed.append(contentsOf: tail)
            compressed = false
        }
        blocks.append(Block(end: packed.count, size: tail.count, compressed: compressed))
        tail.removeAll(keepingCapacity: true)
    }

    var truncated: Bool { total > kept }

    /// Every kept byte, in order.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(kept)
        var start = 0
        for b in blocks {
            packed[start..<b.end].withUnsafeBytes { raw in
                if !b.compressed { out.append(contentsOf: raw); return }
                // Our own blocks, compressed a moment ago in this process: they decompress.
                out.append(contentsOf: (try? LZ4.decompress(raw, originalSize: b.size)) ?? [])
            }
            start = b.end
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
    var heldBytes: Int { tail.capacity + packed.capacity + blocks.capacity * MemoryLayout<Block>.stride }
}
