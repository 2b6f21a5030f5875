#if canImport(Glibc)
import Glibc
#endif
import PlumbCore

/// Request and response bodies, apart from the columns: `bodies/body-<id>.plbody`, a header then
/// LZ4 blocks of up to 256 KiB of bodies each (`u32 compressed length, u32 raw length,
/// u32 crc32c(compressed)`, bytes). A span's `BodyRef` names its block, so one read touches one block.
///
/// ```swift
/// let refs = try BodyFile.write(spans, id: 7, to: "bodies/body-0000000007.plbody")
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

    /// Writes every body of `spans` (nil refs for spans without bodies); nil when there are none.
    /// The file is fsynced before this returns.
    public static func write(_ spans: [Span], id: Int64, to path: String) throws -> (refs: [BodyRef?], bytes: Int)? {
        guard spans.contains(where: { $0.requestBody != nil || $0.responseBody != nil }) else { return nil }
        let f = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        var header = ByteWriter(); header.append(magic); header.u32(version)
        try f.write(header.bytes)
        var offset = headerSize
        var refs = [BodyRef?](repeating: nil, count: spans.count)
        var block: [UInt8] = []
        var pending: [(row: Int, offset: Int, req: Int?, resp: Int?)] = []
        func flushBlock() throws {
            guard !block.isEmpty else { return }
            let packed = LZ4.compress(block)
            var w = ByteWriter(capacity: packed.count + blockHeaderSize)
            w.u32(UInt32(packed.count)); w.u32(UInt32(block.count)); w.u32(CRC32C.checksum(packed)); w.append(packed)
            try f.write(w.bytes)
            for p in pending {
                refs[p.row] = BodyRef(file: id, block: Int64(offset), offset: Int64(p.offset),
                                      requestLength: p.req.map(Int64.init), responseLength: p.resp.map(Int64.init))
            }
            offset += w.count
            block.removeAll(keepingCapacity: true); pending.removeAll(keepingCapacity: true)
        }
        for (row, s) in spans.enumerated() where s.requestBody != nil || s.responseBody != nil {
            let start = block.count
            if let b = s.requestBody { block.append(contentsOf: b.utf8) }
            if let b = s.responseBody { block.append(contentsOf: b.utf8) }
            pending.append((row, start, s.requestBody?.utf8.count, s.responseBody?.utf8.count))
            if block.count >= blockTarget { try flushBlock() }
        }
        try flushBlock()
        try f.sync()
        return (refs, offset)
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
