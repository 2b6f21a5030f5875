import PlumbCore
import PlumbStore

/// The file layout both kinds of rollup share (`MinuteRollups`, `PartialRollups`): a magic of
/// its kind, the format version, the index's length and CRC32C, the index (the segment's
/// SHA-256; per entry a 64-bit key, its offset, length and CRC32C), then the entries. A reader
/// opens the index and reads an entry when asked, checking it then.
///
/// ```swift
/// try FileSystem.writeAtomically(path, RollupFile.encode(kind: kind, hash: sha, entries: [(3, bytes)]))
/// let bytes = try RollupFile.open(path, kind: kind, hash: sha).entry(3)
/// ```
final class RollupFile: @unchecked Sendable {
    struct Kind: Sendable {
        /// 8 bytes.
        let magic: [UInt8]
        let version: UInt32
    }

    static let headerSize = 20
    let handle: FileDescriptor
    let index: [UInt64: (offset: Int, length: Int, crc: UInt32)]

    private init(handle: FileDescriptor, index: [UInt64: (offset: Int, length: Int, crc: UInt32)]) {
        self.handle = handle; self.index = index
    }

    /// Entry `key`'s bytes (nil: the file has none).
    func entry(_ key: UInt64) throws -> [UInt8]? {
        guard let at = index[key] else { return nil }
        let bytes = try handle.read(at: at.offset, count: at.length)
        guard CRC32C.checksum(bytes) == at.crc else { throw FormatError("rollup entry checksum mismatch") }
        return bytes
    }

    static func encode(kind: Kind, hash: String, entries: [(key: UInt64, bytes: [UInt8])]) -> [UInt8] {
        var index = ByteWriter()
        index.string(hash)
        index.varint(UInt64(entries.count))
        // Offsets count from the end of the index, whose size does not depend on them.
        var offset = 0
        for e in entries {
            index.u64(e.key); index.u64(UInt64(offset)); index.u64(UInt64(e.bytes.count)); index.u32(CRC32C.checksum(e.bytes))
            offset += e.bytes.count
        }
        var w = ByteWriter(capacity: headerSize + index.count + offset)
        w.append(kind.magic); w.u32(kind.version); w.u32(UInt32(index.count)); w.u32(CRC32C.checksum(index.bytes))
        w.append(index.bytes)
        for e in entries { w.append(e.bytes) }
        return w.bytes
    }

    static func open(_ path: String, kind: Kind, hash: String) throws -> RollupFile {
        let handle = try FileDescriptor.openForReading(path)
        let size = try handle.size()
        guard size >= headerSize else { throw FormatError("not a rollup") }
        let header = try handle.read(at: 0, count: headerSize)
        guard Array(header[0..<8]) == kind.magic else { throw FormatError("not a rollup of this kind") }
        var r = ByteReader(header, from: 8)
        guard try r.u32() == kind.version else { throw FormatError("rollup of another version") }
        let length = Int(try r.u32()), crc = try r.u32()
        guard length <= size - headerSize else { throw FormatError("rollup index exceeds the file") }
        let bytes = try handle.read(at: headerSize, count: length)
        guard CRC32C.checksum(bytes) == crc else { throw FormatError("rollup index checksum mismatch") }
        var x = ByteReader(bytes)
        guard try x.string() == hash else { throw FormatError("rollup of another segment") }
        let base = headerSize + length
        var index: [UInt64: (offset: Int, length: Int, crc: UInt32)] = [:]
        for _ in 0..<(try x.length("entries", elementSize: 28)) {
            let key = try x.u64(), offset = Int(clamping: try x.u64()), length = Int(clamping: try x.u64())
            guard offset <= size - base, length <= size - base - offset else { throw FormatError("rollup entry outside the file") }
            index[key] = (base + offset, length, try x.u32())
        }
        guard x.remaining == 0 else { throw FormatError("bytes after the rollup index") }
        return RollupFile(handle: handle, index: index)
    }

    /// FNV-1a, 64 bits: a stable key for a string (Swift's `Hasher` is seeded per process).
    static func key(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

/// The rollup files of one kind a reader has opened, by segment hash (their indexes; entries are
/// read when asked for). A file that is missing or fails its checks is not kept: the writer may
/// write it soon.
final class RollupFiles: @unchecked Sendable {
    let path: String, suffix: String, kind: RollupFile.Kind
    private let opened = BudgetedCache<String, RollupFile>(budget: 8 << 20)

    init(path: String, suffix: String, kind: RollupFile.Kind) { self.path = path; self.suffix = suffix; self.kind = kind }

    func open(hash: String) -> RollupFile? {
        if let known = opened.value(hash) { return known }
        let name = path + "/" + hash + suffix
        guard FileSystem.exists(name), let file = try? RollupFile.open(name, kind: kind, hash: hash) else { return nil }
        opened.keep(hash, file, size: 64 + file.index.count * 48)
        return file
    }
}
