extension WriteAheadLog {
    /// Whether frames are LZ4-compressed. `.adaptive` (the default) compresses only while it makes
    /// the log faster; `.always` and `.never` are for tests and benchmarks.
    public enum Compression: Sendable { case adaptive, always, never }

    /// Chooses the codec of the next group commit from what the last ones cost.
    ///
    /// LZ4 costs the WAL thread CPU time (about 2 ns a byte here, a sixth of all ingest CPU at a
    /// million spans a second, on cores shared with producers and the publisher) and saves disk
    /// time (records shrink to about 0.56). It pays only on a slow disk: on this machine's,
    /// 17 MB raw commits write and sync at 0.7–1.7 GB/s, where compressing them would take longer
    /// than writing them. So the policy keeps byte-weighted averages of the WAL thread's time per
    /// raw byte both ways (framing, plus write and fdatasync per written byte times the ratio),
    /// compresses when that is clearly cheaper (by `margin`, as its CPU is taken from the other
    /// threads), and tries the other codec every `probeEvery` commits to keep both figures current.
    ///
    /// ```swift
    /// var p = WriteAheadLog.CompressionPolicy(.adaptive)
    /// p.observe(rawBytes: 8 << 20, writtenBytes: 8 << 20, framingNanos: 2_000_000, ioNanos: 80_000_000)
    /// ```
    public struct CompressionPolicy: Sendable {
        public let mode: Compression
        /// The codec for the next commit.
        public private(set) var compress: Bool
        private var ioPerByte = Average(), rawFraming = Average(), lz4Framing = Average(), ratio = Average()
        private var sinceProbe = 0
        static let margin = 1.25, probeEvery = 32

        public init(_ mode: Compression) {
            self.mode = mode
            compress = mode == .always
        }

        /// One commit: `rawBytes` of records were framed in `framingNanos` as `writtenBytes`
        /// (fewer when compressed), then written and synced in `ioNanos`.
        public mutating func observe(rawBytes: Int, writtenBytes: Int, framingNanos: UInt64, ioNanos: UInt64) {
            guard mode == .adaptive, rawBytes > 0, writtenBytes > 0 else { return }
            let raw = Double(rawBytes), written = Double(writtenBytes)
            ioPerByte.add(Double(ioNanos), per: written)
            if writtenBytes < rawBytes {
                lz4Framing.add(Double(framingNanos), per: raw)
                ratio.add(written, per: raw)
            } else {
                rawFraming.add(Double(framingNanos), per: raw)
            }
            sinceProbe += 1
            guard let io = ioPerByte.value, let r = ratio.value, let lz = lz4Framing.value, let plain = rawFraming.value else {
                compress = lz4Framing.value == nil      // learn what the codec not yet seen costs
                return
            }
            let costRaw = plain + io, costLZ4 = lz + io * r
            compress = costLZ4 * (compress ? 1 : Self.margin) < costRaw
            if sinceProbe >= Self.probeEvery { compress.toggle(); sinceProbe = 0 }
        }

        /// A ratio smoothed over the last few commits, weighted by their bytes.
        struct Average: Sendable {
            var sum = 0.0, weight = 0.0
            mutating func add(_ x: Double, per w: Double) { sum = sum * 0.7 + x; weight = weight * 0.7 + w }
            var value: Double? { weight > 0 ? sum / weight : nil }
        }
    }
}
