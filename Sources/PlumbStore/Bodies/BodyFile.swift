#if canImport(Glibc)
import Glibc
#endif
import PlumbCore

/// Request and response bodies, apart from the columns: `bodies/body-<id>.plbody`, a header then
/// LZ4 blocks of up to 256 KiB of bodies each (`u32 compressed length, u32 raw length,
/// u32 crc32c(compressed)`, bytes). A span's `BodyRef` names its block, so one read touches one block.
///
/// ```swift
/// let ref = try writer.add(request: req, response: resp)      // see `BodyFile.Writer`
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

    /// Writes one body file as spans come: the file is made at the first body, each body lands
    /// in the current block and its `BodyRef` is known at once (a block's offset is where the
    /// file ends when the block starts).
    ///
    /// ```swift
    /// let w = BodyFile.Writer(id: 7, path: tmpPath)
    /// let ref = try w.add(request: req, response: nil)
    /// let bytes = try w.finish()         // nil: no body came, no file was made
    /// ```
    public final class Writer {
        public let id: Int64
        public let path: String
        private var file: FileDescriptor?
        private var offset = headerSize
        private var block: [UInt8] = []

        public init(id: Int64, path: String) { self.id = id; self.path = path }

        public func add(request: UnsafeBufferPointer<UInt8>?, response: UnsafeBufferPointer<UInt8>?) throws -> BodyRef {
            if file == nil {
                let f = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
                file = f
                var header = ByteWriter(); header.append(magic); header.u32(version)
                try f.write(header.bytes)
            }
            let start = block.count
            if let request { block.append(contentsOf: request) }
            if let response { block.append(contentsOf: response) }
            let ref = BodyRef(file: id, block: Int64(offset), offset: Int64(start),
                              requestLength: request.map { Int64($0.count) }, responseLength: response.map { Int64($0.count) })
            if block.count >= blockTarget { try flushBlock() }
            return ref
        }

        private func flushBlock() throws {
            guard let file, !block.isEmpty else { return }
            let packed = LZ4.compress(block)
            var w = ByteWriter(capacity: packed.count + blockHeaderSize)
            w.u32(UInt32(packed.count)); w.u32(UInt32(block.count)); w.u32(CRC32C.checksum(packed)); w.append(packed)
            try file.write(w.bytes)
            offset += w.count
            block.removeAll(keepingCapacity: true)
        }

        /// Writes the last block and fsyncs; the file's size, or nil when no body was added.
        public func finish() throws -> Int? {
            guard let file else { return nil }
            try flushBlock()
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
            guard let s = String(validating: raw[from..<from + n], as: UTF8.self) else { throw FormatError("invalid UTF-8 in body") }
            return s
        }
        return (ref.requestLength == nil ? nil : try text(start, req),
                ref.responseLength == nil ? nil : try text(start + req, resp))
    }
}
