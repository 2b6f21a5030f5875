import Foundation
import PlumbCore
import PlumbStore

/// Minute rollups: for each live segment, its row groups' `MinutePart`s in one file,
/// `rollups/<segment SHA-256>.minutes`, which `plumb serve` writes in the background
/// (`MinuteRollupWriter`) and the incident detector reads instead of the row groups. A cold
/// `plumb dash` or `plumb incidents` over a day then reads a few hundred kilobytes of counts
/// and p95s instead of decoding and selecting over every span. Only an accelerator: a missing,
/// older or damaged file means the row groups are read, as they would be without it.
///
/// ```swift
/// var engine = QueryEngine(directory: dir)
/// engine.minuteRollups = MinuteRollups(directory: dir)
/// let incidents = try IncidentDetector(engine: engine).detect(since: dayAgo, until: now)
/// ```
public final class MinuteRollups: @unchecked Sendable {
    public let path: String
    /// Opened files' indexes by segment hash (a part is read when asked for).
    private let files = BudgetedCache<String, File>(budget: 8 << 20)
    private let lock = NSLock()
    private var reread = 0

    public init(directory: DataDirectory) { path = directory.rollups }

    static func file(_ dir: String, hash: String) -> String { dir + "/" + hash + ".minutes" }

    /// Row groups read although their rollup had them: a cell of theirs with only its p95
    /// kept was also held by another part (spans that landed late).
    public var rereads: Int { lock.withLock { reread } }

    func noteRereads(_ n: Int) { lock.withLock { reread += n } }

    /// Row groups' parts read from rollups so far.
    public var partsRead: Int { lock.withLock { read } }
    private var read = 0

    /// "PLMINUTE", then the format version: bump it when a part's meaning changes (what
    /// counts as failed, how a p95 is taken), so files written before are not used.
    static let magic = Array("PLMINUTE".utf8)
    static let version: UInt32 = 1
    static let headerSize = 20

    /// One rollup file: its row groups' places in it, each with its CRC32C.
    final class File: @unchecked Sendable {
        let handle: FileDescriptor
        let index: [Int: (offset: Int, length: Int, crc: UInt32)]
        init(handle: FileDescriptor, index: [Int: (offset: Int, length: Int, crc: UInt32)]) { self.handle = handle; self.index = index }

        func part(_ group: Int) throws -> MinutePart? {
            guard let at = index[group] else { return nil }
            let bytes = try handle.read(at: at.offset, count: at.length)
            guard CRC32C.checksum(bytes) == at.crc else { throw FormatError("minute rollup checksum mismatch") }
            return try MinutePart(decoding: bytes)
        }
    }

    /// The part of row group `key` (`<segment hash>#<row group>`), when a usable rollup has it.
    func part(_ key: String) -> MinutePart? {
        guard let hash = key.split(separator: "#", maxSplits: 1).first, let group = Int(key[key.index(after: hash.endIndex)...]),
              let file = open(hash: String(hash)) else { return nil }
        guard let part = try? file.part(group) else { return nil }
        lock.withLock { read += 1 }
        return part
    }

    func open(hash: String) -> File? {
        if let known = files.value(hash) { return known }
        let name = Self.file(path, hash: hash)
        guard FileSystem.exists(name), let file = try? Self.open(name, hash: hash) else { return nil }
        files.keep(hash, file, size: 64 + file.index.count * 48)
        return file
    }

    /// Magic, version, the index's size and CRC32C, the index (segment hash; per row group its
    /// number, offset, length and CRC32C), then the parts.
    static func encode(hash: String, parts: [Int: MinutePart], keepLatencies: (Int64) -> Bool = { _ in false }) -> [UInt8] {
        let blobs = parts.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value.encoded(keepLatencies: keepLatencies)) }
        var index = ByteWriter()
        index.string(hash)
        index.varint(UInt64(blobs.count))
        // Offsets follow the index, whose size depends on them: fixed-width fields.
        var offset = 0
        for (group, blob) in blobs {
            index.u64(UInt64(group)); index.u64(UInt64(offset)); index.u64(UInt64(blob.count)); index.u32(CRC32C.checksum(blob))
            offset += blob.count
        }
        var w = ByteWriter(capacity: headerSize + index.count + offset)
        w.append(magic); w.u32(version); w.u32(UInt32(index.count)); w.u32(CRC32C.checksum(index.bytes))
        w.append(index.bytes)
        for (_, blob) in blobs { w.append(blob) }
        return w.bytes
    }

    static func open(_ name: String, hash: String) throws -> File {
        let handle = try FileDescriptor.openForReading(name)
        let size = try handle.size()
        guard size >= headerSize else { throw FormatError("not a minute rollup") }
        let header = try handle.read(at: 0, count: headerSize)
        guard Array(header[0..<8]) == magic else { throw FormatError("not a minute rollup") }
        var r = ByteReader(header, from: 8)
        guard try r.u32() == version else { throw FormatError("minute rollup of another version") }
        let length = Int(try r.u32()), crc = try r.u32()
        guard length <= size - headerSize else { throw FormatError("minute rollup index exceeds the file") }
        let bytes = try handle.read(at: headerSize, count: length)
        guard CRC32C.checksum(bytes) == crc else { throw FormatError("minute rollup index checksum mismatch") }
        var x = ByteReader(bytes)
        guard try x.string() == hash else { throw FormatError("minute rollup of another segment") }
        let base = headerSize + length
        var index: [Int: (offset: Int, length: Int, crc: UInt32)] = [:]
        for _ in 0..<(try x.length("row groups", elementSize: 28)) {
            let group = Int(clamping: try x.u64()), offset = Int(clamping: try x.u64()), length = Int(clamping: try x.u64())
            guard offset <= size - base, length <= size - base - offset else { throw FormatError("minute rollup part outside the file") }
            index[group] = (base + offset, length, try x.u32())
        }
        return File(handle: handle, index: index)
    }

    /// Every part of a rollup file (checking each): for the writer, which trusts a file it did
    /// not write only once it has read it whole.
    static func decodeAll(_ name: String, hash: String) throws -> [Int: MinutePart] {
        let file = try open(name, hash: hash)
        var parts: [Int: MinutePart] = [:]
        for group in file.index.keys { parts[group] = try file.part(group) }
        return parts
    }
}
