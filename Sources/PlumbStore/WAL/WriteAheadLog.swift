#if canImport(Glibc)
import Glibc
#endif
import PlumbCore

/// The write-ahead log: numbered files `wal/wal-<first seq>.log`, each a header and then frames.
/// A frame is one group commit: `u32 length, u32 crc32c(payload), payload`, where the payload is
/// `u64 first seq, varint count, u8 codec, body`: codec 0 means the body is `count × SpanRecord`;
/// codec 1 means `varint raw length` then those records as one LZ4 block (used when it is
/// smaller: the log is written at disk speed, so fewer bytes is more spans per second).
/// One write and one fdatasync per frame.
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
    /// Records are cut into frames of at most this many raw bytes, far below `maxFrame`.
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

        public init(directory: String, firstSeq: UInt64) throws {
            self.directory = directory
            currentFirstSeq = firstSeq
            file = try Self.create(directory: directory, firstSeq: firstSeq)
        }

        private static func create(directory: String, firstSeq: UInt64) throws -> FileDescriptor {
            let path = directory + "/" + fileName(firstSeq: firstSeq)
            let f = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
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
        /// On failure the file is cut back to its last good frame, so later frames stay readable.
        public func append(_ spans: ArraySlice<Span>, firstSeq: UInt64) throws {
            var start = spans.startIndex
            var seq = firstSeq
            var frames = ByteWriter()
            while start < spans.endIndex {
                var records = ByteWriter(capacity: min(spans.count, 65_536) * 256)
                var end = start
                while end < spans.endIndex && records.count < frameTarget {
                    SpanRecord.encode(spans[end], into: &records)
                    end += 1
                }
                Self.frame(records, count: end - start, firstSeq: seq, into: &frames)
                seq += UInt64(end - start)
                start = end
            }
            do {
                try file.write(frames.bytes)
                try file.syncData()
                size += frames.count
            } catch {
                try? file.truncate(to: size)
                try? file.seek(to: size)
                throw error
            }
        }

        static func frame(_ records: ByteWriter, count: Int, firstSeq: UInt64, into frame: inout ByteWriter) {
            // Fast LZ4: the log only needs to stay under the disk's write speed, not be small.
            let packed = records.count >= 512 ? LZ4.compress(records.bytes, acceleration: 4) : []
            var payload = ByteWriter(capacity: min(records.count, packed.isEmpty ? records.count : packed.count) + 32)
            payload.u64(firstSeq); payload.varint(UInt64(count))
            if !packed.isEmpty && packed.count < records.count {
                payload.u8(1); payload.varint(UInt64(records.count)); payload.append(packed)
            } else {
                payload.u8(0); payload.append(records.bytes)
            }
            frame.u32(UInt32(payload.count)); frame.u32(CRC32C.checksum(payload.bytes))
            frame.append(payload.bytes)
        }

        /// Starts a new file; records from `firstSeq` on go there.
        public func rotate(firstSeq: UInt64) throws {
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

    /// Reads every record after `publishedSeq`, stopping at the first torn or corrupt frame: that
    /// file is truncated there and any later files are moved to `wal/corrupt/` (kept, not replayed).
    public static func replay(directory: String, publishedSeq: UInt64) throws -> Replay {
        var out = Replay()
        out.nextSeq = publishedSeq + 1
        let list = files(in: directory)
        var stopped = false
        for entry in list {
            let path = directory + "/" + entry.name
            if stopped {
                try FileSystem.makeDirectory(directory + "/corrupt")
                try FileSystem.rename(path, directory + "/corrupt/" + entry.name)
                out.problems.append("\(path): set aside after an earlier corrupt record")
                continue
            }
            let bytes = try FileSystem.readAll(path)
            var r = ByteReader(bytes)
            var goodEnd = 0
            var problem: String?
            if bytes.count >= headerSize && Array(bytes[0..<8]) == magic {
                var hr = ByteReader(bytes, from: 8)
                let v = try hr.u32()
                guard v == version else {
                    throw FormatError("\(path): write-ahead log version \(v); this build reads version \(version) (replay it with the plumb that wrote it)")
                }
            }
            if bytes.count < headerSize || Array(bytes[0..<8]) != magic {
                problem = bytes.count < headerSize ? "torn header" : "bad magic"
                goodEnd = -1
            } else {
                r.pos = headerSize
                goodEnd = headerSize
                var expected = entry.firstSeq
                while r.remaining > 0 {
                    guard r.remaining >= 8 else { problem = "torn frame header at offset \(r.pos)"; break }
                    let start = r.pos
                    let len = Int(try r.u32()), crc = try r.u32()
                    guard len <= maxFrame, len <= r.remaining else { problem = "torn frame at offset \(start)"; break }
                    let ok = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[r.pos..<r.pos + len])) } == crc
                    guard ok else { problem = "checksum mismatch in frame at offset \(start)"; break }
                    var fr = ByteReader(bytes, from: r.pos, to: r.pos + len)
                    do {
                        let seq = try fr.u64()
                        let count = try fr.int("frame record count")
                        switch try fr.u8() {
                        case 0: break
                        case 1:
                            let raw = try fr.length("raw frame length", elementSize: 0)
                            guard raw <= maxFrame * 4 else { throw FormatError("implausible raw frame length") }
                            fr = ByteReader(try LZ4.decompress(Array(try fr.take(fr.remaining)), originalSize: raw))
                        case let c: throw FormatError("unknown frame codec \(c)")
                        }
                        guard count <= fr.remaining else { throw FormatError("implausible record count") }
                        guard seq == expected else {
                            problem = "sequence gap at offset \(start)"; break
                        }
                        var batch: [(UInt64, Span)] = []
                        for k in 0..<count { batch.append((seq + UInt64(k), try SpanRecord.decode(&fr))) }
                        guard fr.remaining == 0 else { problem = "stray bytes in frame at offset \(start)"; break }
                        for (s, span) in batch where s > publishedSeq { out.spans.append((s, span)) }
                        expected = seq + UInt64(count)
                        out.nextSeq = max(out.nextSeq, expected)
                    } catch {
                        problem = "undecodable frame at offset \(start): \(error)"; break
                    }
                    r.pos += len
                    goodEnd = r.pos
                }
            }
            if let problem {
                out.problems.append("\(path): \(problem); truncated to \(goodEnd) bytes")
                if goodEnd < 0 {
                    // Not a WAL file we can read at all: keep it aside, never delete it.
                    try FileSystem.makeDirectory(directory + "/corrupt")
                    try FileSystem.rename(path, directory + "/corrupt/" + entry.name)
                } else if goodEnd < headerSize {
                    try FileSystem.remove(path)
                } else {
                    let f = try FileDescriptor(path: path, flags: O_WRONLY)
                    try f.truncate(to: goodEnd)
                    try f.sync()
                }
                stopped = true
            }
        }
        return out
    }

    /// Deletes files all of whose records are at or below `publishedSeq` (never the newest file).
    public static func release(directory: String, publishedSeq: UInt64) {
        let list = files(in: directory)
        guard list.count > 1 else { return }
        for i in 0..<(list.count - 1) where list[i + 1].firstSeq <= publishedSeq + 1 {
            try? FileSystem.remove(directory + "/" + list[i].name)
        }
    }
}
