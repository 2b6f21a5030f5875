#if canImport(Glibc)
import Glibc
#endif
import PlumbCore

/// The write-ahead log: numbered files `wal/wal-<first seq>.log`, each a header and then frames.
/// A frame is one group commit: `u32 length, u32 crc32c(payload), payload`, where the payload is
/// `u64 first seq, varint count, u8 codec, body`: codec 0 means the body is `count × SpanRecord`;
/// codec 1 means `varint raw length` then those records as one LZ4 block (used while the disk is
/// the bottleneck and when it is smaller, see `CompressionPolicy`). One write and one fdatasync
/// per group commit.
///
/// Released files are recycled (`Recycling`): a new file is an old one renamed and overwritten, so
/// its pages are still in the page cache. Frames from the file's earlier life may follow the last
/// frame; their sequence numbers are below the file's first, and replay ends the file there.
///
/// ```swift
/// let wal = try WriteAheadLog.Writer(directory: dir, firstSeq: 1)
/// try wal.append(spans, firstSeq: 1)     // durable when it returns
/// ```
public enum WriteAheadLog {
    static let magic: [UInt8] = Array("PLUMBWAL".utf8)
    static let version: UInt32 = 2          // 2: frames carry a codec byte (LZ4)
    static let headerSize = 20
    static let maxFrame = 1 << 30
    /// A frame header of length 0 and checksum 0 (no frame is empty): the file's frames end here.
    static let endMarker = [UInt8](repeating: 0, count: 8)
    /// Records are cut into frames once they pass this many raw bytes (so a frame is at most this
    /// plus one record; `SpanStore` caps bodies so that stays far below `maxFrame`).
    static let frameTarget = 32 << 20

    static func fileName(firstSeq: UInt64) -> String {
        let s = String(firstSeq)
        return "wal-" + String(repeating: "0", count: max(0, 20 - s.count)) + s + ".log"
    }

    static func firstSeq(ofFile name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log") else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4))
    }

    /// The WAL files in a directory with their first sequence numbers, oldest first.
    public static func files(in directory: String) -> [(name: String, firstSeq: UInt64)] {
        FileSystem.list(directory).compactMap { n in firstSeq(ofFile: n).map { (n, $0) } }.sorted { $0.1 < $1.1 }
    }

    public final class Writer {
        public let directory: String
        private var file: FileDescriptor
        private var size = headerSize
        public private(set) var currentFirstSeq: UInt64
        private var policy: CompressionPolicy
        /// Group commits written so far with LZ4 (`StoreCounters.walCompressedBatches`).
        public private(set) var compressedCommits = 0

        public init(directory: String, firstSeq: UInt64, compression: Compression = .adaptive) throws {
            self.directory = directory
            currentFirstSeq = firstSeq
            policy = CompressionPolicy(compression)
            file = try Self.create(directory: directory, firstSeq: firstSeq)
        }

        private static func create(directory: String, firstSeq: UInt64) throws -> FileDescriptor {
            let path = directory + "/" + fileName(firstSeq: firstSeq)
            let reused = Recycling.take(directory: directory, as: path)
            let f = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | (reused ? 0 : O_TRUNC))
            do {
                var h = ByteWriter()
                h.append(magic); h.u32(version); h.u64(firstSeq)
                try f.write(h.bytes)
                try f.sync()
                try FileSystem.syncDirectory(directory)
            } catch {
                // A half-made file must not exist: its name would let `release` drop the file
                // still being written.
                try? FileSystem.remove(path)
                throw error
            }
            return f
        }

        /// Writes `spans` (sequence numbers `firstSeq...`) as one or more frames and syncs once.
        public func append(_ spans: ArraySlice<Span>, firstSeq: UInt64) throws {
            let records = SpanRecords(spans)
            try append(records, 0..<records.count, firstSeq: firstSeq)
        }

        /// Writes records `range` (sequence numbers `firstSeq...`) as one or more frames and syncs
        /// once. On failure the file is cut back to its last good frame, so later frames stay readable.
        public func append(_ records: SpanRecords, _ range: Range<Int>, firstSeq: UInt64) throws {
            frames.removeAll(keepingCapacity: true)
            let ends = records.encoded.ends
            let compress = policy.compress
            let rawBytes = records.encoded.byteRange(range).count
            let framingStart = Monotonic.nanos()
            var start = range.lowerBound
            while start < range.upperBound {
                let from = records.encoded.byteRange(start..<start).lowerBound
                var end = start + 1
                while end < range.upperBound && ends[end - 1] - from < frameTarget { end += 1 }
                records.encoded.bytes.withUnsafeBytes { b in
                    Self.frame(UnsafeRawBufferPointer(rebasing: b[from..<ends[end - 1]]), count: end - start,
                               firstSeq: firstSeq + UInt64(start - range.lowerBound), compress: compress, into: &frames)
                }
                start = end
            }
            let ioStart = Monotonic.nanos()
            let framingNanos = ioStart - framingStart
            do {
                try frames.withUnsafeBytes { try file.write($0) }
                try file.syncData()
                size += frames.count
                let end = Monotonic.nanos()
                policy.observe(rawBytes: rawBytes, writtenBytes: frames.count, framingNanos: framingNanos, ioNanos: end - ioStart)
                if frames.count < rawBytes { compressedCommits += 1 }
            } catch {
                try? file.truncate(to: size)
                try? file.syncData()
                try? file.seek(to: size)
                throw error
            }
        }

        /// Marks the end of this file's frames (`endMarker`), so that what a recycled file held
        /// beyond them reads as a clean end. Not synced: a stale tail is harmless. Not a truncation,
        /// which would free page cache the file's next life has to fault in again.
        public func finish() {
            try? file.write(endMarker)
        }

        /// Kept between appends so a group commit's buffer is warm memory, not fresh pages.
        private var frames: [UInt8] = []

        /// `u32 length, u32 crc32c, payload`, written in place (length and checksum filled in last).
        static func frame(_ records: UnsafeRawBufferPointer, count: Int, firstSeq: UInt64, compress: Bool, into frames: inout [UInt8]) {
            var w = ByteWriter()
            swap(&w.bytes, &frames)
            defer { swap(&w.bytes, &frames) }
            let head = w.count
            w.u32(0); w.u32(0)
            let payload = w.count
            w.u64(firstSeq); w.varint(UInt64(count))
            let codecAt = w.count
            w.u8(1); w.varint(UInt64(records.count))
            // Fast LZ4: the log only needs to stay under the disk's write speed, not be small.
            let packed = compress && records.count >= 512 ? LZ4.compress(records, appendingTo: &w.bytes, acceleration: 4) : 0
            if packed == 0 || packed >= records.count {
                w.bytes.removeLast(w.count - codecAt)
                w.u8(0); w.bytes.append(contentsOf: records)
            }
            w.setU32(UInt32(w.count - payload), at: head)
            let crc = w.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[payload...])) }
            w.setU32(crc, at: head + 4)
        }

        /// Starts a new file; records from `firstSeq` on go there.
        public func rotate(firstSeq: UInt64) throws {
            finish()
            file = try Self.create(directory: directory, firstSeq: firstSeq)
            currentFirstSeq = firstSeq
            size = headerSize
        }
    }

    public struct Replay {
        public var spans: [(seq: UInt64, span: Span)] = []
        public var nextSeq: UInt64 = 1
        /// What was cut off: a torn or corrupt tail, with the file and offset.
        public var problems: [String] = []
    }

    /// Reads every record after `publishedSeq`. A file is read up to its first torn or corrupt
    /// frame and truncated there; replay then goes on with the next file (after a failed write
    /// the writer starts a new file, so later files hold acknowledged spans). A file that is not
    /// a readable WAL file at all is moved to `wal/corrupt/`, never deleted.
    public static func replay(directory: String, publishedSeq: UInt64) throws -> Replay {
        var out = Replay()
        out.nextSeq = publishedSeq + 1
        for entry in files(in: directory) {
            let path = directory + "/" + entry.name
            var file = try FrameFile(path: path)
            guard let v = try file.version() else {
                let aside = try setAside(path, directory: directory, name: entry.name)
                out.problems.append("\(path): \(file.size < headerSize ? "torn header" : "not a WAL file"); moved to \(aside)")
                continue
            }
            guard v == version else {
                if file.size == headerSize {               // nothing in it to replay
                    try FileSystem.remove(path)
                    try FileSystem.syncDirectory(directory)
                    continue
                }
                throw FormatError("\(path): write-ahead log version \(v) holds unpublished spans; this build reads version \(version)")
            }
            out.nextSeq = max(out.nextSeq, entry.firstSeq)
            let (goodEnd, problem) = try walkFrames(&file, firstSeq: entry.firstSeq, through: publishedSeq) { seq, batch in
                for (k, span) in batch.enumerated() where seq + UInt64(k) > publishedSeq { out.spans.append((seq + UInt64(k), span)) }
                out.nextSeq = max(out.nextSeq, seq + UInt64(batch.count))
            }
            if let problem {
                out.problems.append("\(path): \(problem); truncated to \(goodEnd) bytes")
                let f = try FileDescriptor(path: path, flags: O_WRONLY)
                try f.truncate(to: goodEnd)
                try f.sync()
            }
        }
        return out
    }

    static func decodeFrame(_ bytes: [UInt8], from: Int, length: Int) throws -> (UInt64, [Span]) {
        var fr = ByteReader(bytes, from: from, to: from + length)
        let seq = try fr.u64()
        let count = try fr.int("frame record count")
        switch try fr.u8() {
        case 0: break
        case 1:
            let raw = try fr.int("raw frame length")
            guard raw <= maxFrame * 4 else { throw FormatError("implausible raw frame length") }
            fr = ByteReader(try LZ4.decompress(Array(try fr.take(fr.remaining)), originalSize: raw))
        case let c: throw FormatError("unknown frame codec \(c)")
        }
        guard count <= fr.remaining else { throw FormatError("implausible record count") }
        var batch: [Span] = []
        batch.reserveCapacity(count)
        for _ in 0..<count { batch.append(try SpanRecord.decode(&fr)) }
        guard fr.remaining == 0 else { throw FormatError("stray bytes in frame") }
        return (seq, batch)
    }

    /// Moves a file into `wal/corrupt/` under a name not yet taken there; returns the new path.
    static func setAside(_ path: String, directory: String, name: String) throws -> String {
        let dir = directory + "/corrupt"
        try FileSystem.makeDirectory(dir)
        var target = dir + "/" + name
        var n = 1
        while FileSystem.exists(target) { target = dir + "/" + name + ".\(n)"; n += 1 }
        try FileSystem.rename(path, target)
        try FileSystem.syncDirectory(dir)
        try FileSystem.syncDirectory(directory)
        return target
    }

    /// Recycles (or deletes) files all of whose records are at or below `publishedSeq` (never the
    /// newest file).
    public static func release(directory: String, publishedSeq: UInt64) {
        let list = files(in: directory)
        guard list.count > 1 else { return }
        for i in 0..<(list.count - 1) where list[i + 1].firstSeq <= publishedSeq + 1 {
            Recycling.put(directory + "/" + list[i].name, directory: directory, id: list[i].firstSeq)
        }
    }
}
