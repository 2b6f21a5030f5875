#if canImport(Glibc)
import Glibc
#endif
import PlumbCore

/// Request and response bodies, apart from the columns: `bodies/body-<id>.plbody`, a header then
/// LZ4 blocks of up to 256 KiB of bodies each (`u32 compressed length, u32 raw length,
/// u32 crc32c(compressed)`, bytes). A span's `BodyRef` names its block, so one read touches one block.
///
/// ```swift
/// let base = try writer.append(blocks)      // see `BodyFile.Blocks` and `BodyFile.Writer`
/// let (req, resp) = try BodyFile.read(ref, path: path)
/// ```
public enum BodyFile {
    static let magic: [UInt8] = Array("PLUMBBDY".utf8)
    static let version: UInt32 = 1
    static let headerSize = 12
    static let blockHeaderSize = 12
    public static let blockTarget = 256 * 1024

    public static func fileName(id: Int64) -> String { "body-" + pad(id) + ".plbody" }

    static func pad(_ id: Int64) -> String {
        let s = String(id)
        return String(repeating: "0", count: max(0, 10 - s.count)) + s
    }

    /// Bodies packed into blocks in memory, in the file's block format, with offsets relative to
    /// the first block: each row group is packed on its own thread, then `Writer.append` puts its
    /// blocks in the file and says where they start.
    ///
    /// ```swift
    /// var blocks = BodyFile.Blocks()
    /// let at = blocks.add(request: req, response: resp)   // block start (relative), offset in block
    /// blocks.finish()
    /// let base = try writer.append(blocks)                // the block is at base + at.block
    /// ```
    public struct Blocks {
        public private(set) var bytes: [UInt8] = []
        private var block: [UInt8] = []

        public init() {}

        public var isEmpty: Bool { bytes.isEmpty && block.isEmpty }

        public mutating func add(request: UnsafeBufferPointer<UInt8>?, response: UnsafeBufferPointer<UInt8>?) -> (block: Int64, offset: Int64) {
            let at = (block: Int64(bytes.count), offset: Int64(block.count))
            if let request { block.append(contentsOf: request) }
            if let response { block.append(contentsOf: response) }
            if block.count >= blockTarget { finish() }
            return at
        }

        /// Packs the block being filled (call before handing the blocks to a writer).
        public mutating func finish() {
            guard !block.isEmpty else { return }
            let packed = LZ4.compress(block)
            var w = ByteWriter(capacity: blockHeaderSize)
            w.u32(UInt32(packed.count)); w.u32(UInt32(block.count)); w.u32(CRC32C.checksum(packed))
            bytes.append(contentsOf: w.bytes); bytes.append(contentsOf: packed)
            block.removeAll(keepingCapacity: true)
        }

        public mutating func removeAll() { bytes.removeAll(keepingCapacity: true); block.removeAll(keepingCapacity: true) }
    }

    /// Writes one body file from packed blocks; the file is made when the first blocks come.
    /// Not thread-safe: one thread at a time (the publisher hands it from step to step with `InTurn`).
    public final class Writer: @unchecked Sendable {
        public let id: Int64
        public let path: String
        private var file: FileDescriptor?
        private var offset = headerSize

        public init(id: Int64, path: String) { self.id = id; self.path = path }

        /// Appends finished blocks; returns the file offset their relative offsets start from.
        public func append(_ blocks: Blocks) throws -> Int64 {
            let base = Int64(offset)
            guard !blocks.bytes.isEmpty else { return base }
            if file == nil {
                let f = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
                file = f
                var header = ByteWriter(); header.append(magic); header.u32(version)
                try f.write(header.bytes)
            }
            try file!.write(blocks.bytes)
            offset += blocks.bytes.count
            return base
        }

        /// Fsyncs; the file's size, or nil when no body came (no file was made).
        public func finish() throws -> Int? {
            guard let file else { return nil }
            try file.sync()
            return offset
        }
    }

    /// Reads one span's bodies; throws `FormatError` on a corrupt block.
    public static func read(_ ref: BodyRef, file: FileDescriptor) throws -> (request: String?, response: String?) {
        let head = try file.read(at: Int(ref.block), count: blockHeaderSize)
        var r = ByteReader(head)
        let clen = Int(try r.u32()), rlen = Int(try r.u32()), crc = try r.u32()
        guard clen <= 1 << 30, rlen <= 1 << 30 else { throw FormatError("implausible body block size") }
        let packed = try file.read(at: Int(ref.block) + blockHeaderSize, count: clen)
        guard CRC32C.checksum(packed) == crc else { throw FormatError("body block checksum mismatch in \(file.path)") }
        let raw = try LZ4.decompress(packed, originalSize: rlen)
        let req = Int(ref.requestLength ?? 0), resp = Int(ref.responseLength ?? 0)
        let start = Int(ref.offset)
        guard start >= 0, start + req + resp <= raw.count else { throw FormatError("body reference outside its block") }
        func text(_ from: Int, _ n: Int) throws -> String {
            guard let s = UTF8Validation.string(raw[from..<from + n]) else { throw FormatError("invalid UTF-8 in body") }
            return s
        }
        return (ref.requestLength == nil ? nil : try text(start, req),
                ref.responseLength == nil ? nil : try text(start + req, resp))
    }
}
