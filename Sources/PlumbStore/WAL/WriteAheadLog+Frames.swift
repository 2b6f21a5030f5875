import PlumbCore

extension WriteAheadLog {
    /// One WAL file read from disk a window at a time, so a walk over its frames reads no further
    /// than where they end. A recycled file is overwritten in place, and what it held in its
    /// earlier life stays beyond the end marker: reading the whole file cost every snapshot
    /// (each `plumb query`, each dashboard frame) tens of MB of copying for a few KB of frames.
    ///
    /// ```swift
    /// var file = try WriteAheadLog.FrameFile(path: dir + "/wal-…1.log")
    /// if let (bytes, at) = try file.bytes(at: 20, count: 8) { ... bytes[at..<at + 8] ... }
    /// ```
    struct FrameFile {
        let file: FileDescriptor
        let size: Int
        private var window: [UInt8] = []
        private var windowStart = 0
        /// Bytes read from the file so far.
        private(set) var bytesRead = 0
        /// Bytes read at once: frames are group commits, mostly far smaller. A walk starts with a
        /// small window (a reader's tail is often a few hundred spans) and doubles it as it goes.
        static let readAhead = 1 << 20
        private var nextRead = 64 << 10

        init(path: String) throws {
            file = try FileDescriptor.openForReading(path)
            size = try file.size()
        }

        /// The file's format version; nil when it is too short for a header or not a WAL file.
        mutating func version() throws -> UInt32? {
            guard let (header, _) = try bytes(at: 0, count: headerSize), Array(header[0..<8]) == magic else { return nil }
            var r = ByteReader(header, from: 8)
            return try r.u32()
        }

        /// The `count` bytes at `offset`, as a buffer and the index in it where they start; nil
        /// when the file ends before them.
        mutating func bytes(at offset: Int, count: Int) throws -> (bytes: [UInt8], at: Int)? {
            guard count >= 0, offset >= 0, offset <= size, count <= size - offset else { return nil }
            if offset >= windowStart && offset + count <= windowStart + window.count {
                return (window, offset - windowStart)
            }
            window = try file.read(at: offset, count: max(count, min(nextRead, size - offset)))
            nextRead = min(Self.readAhead, nextRead * 2)
            windowStart = offset
            bytesRead += window.count
            return (window, 0)
        }
    }

    /// Visits the frames of one WAL file in order (first sequence number and spans), up to the
    /// first torn, corrupt or out-of-sequence frame; returns where the good frames end and what
    /// stopped the walk (nil: the file ended cleanly). Frames whose records are all at or below
    /// `through` (published already) are checked but not decoded, and not visited.
    static func walkFrames(_ file: inout FrameFile, firstSeq: UInt64, through: UInt64 = 0,
                           _ visit: (UInt64, [Span]) -> Void) throws -> (goodEnd: Int, problem: String?) {
        var pos = headerSize
        var expected = firstSeq
        while pos < file.size {
            guard let (head, h) = try file.bytes(at: pos, count: 8) else { return (pos, "torn frame header at offset \(pos)") }
            var hr = ByteReader(head, from: h, to: h + 8)
            let len = Int(try hr.u32()), crc = try hr.u32()
            if len == 0 && crc == 0 { return (pos, nil) }     // endMarker
            guard len <= maxFrame, let (payload, p) = try file.bytes(at: pos + 8, count: len) else {
                return (pos, "torn frame at offset \(pos)")
            }
            let ok = payload.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[p..<p + len])) } == crc
            guard ok else { return (pos, "checksum mismatch in frame at offset \(pos)") }
            do {
                var fr = ByteReader(payload, from: p, to: p + len)
                let seq = try fr.u64(), count = UInt64(try fr.int("frame record count"))
                if seq < firstSeq { return (pos, nil) }          // left from the file's earlier life
                guard seq == expected else { return (pos, "sequence gap at offset \(pos)") }
                guard seq <= UInt64.max - count else { return (pos, "sequence overflow at offset \(pos)") }
                if count > 0 && seq + count - 1 > through {
                    visit(seq, try decodeFrame(payload, from: p, length: len).1)
                }
                expected = seq + count
            } catch {
                return (pos, "undecodable frame at offset \(pos): \(error)")
            }
            pos += 8 + len
        }
        return (pos, nil)
    }
}
