import PlumbCore

/// `plumb verify`: re-derives the catalog's hash chain and checks every live segment (size,
/// SHA-256, footer and page CRC32Cs, row count) and every live body file (block CRCs).
///
/// ```swift
/// let report = try StoreVerifier.verify(DataDirectory("./plumb-data"))
/// report.failures.isEmpty   // true when nothing was altered or removed
/// ```
public enum StoreVerifier {
    public struct Failure: Sendable, CustomStringConvertible {
        public let file: String
        public let reason: String
        public var description: String { "\(file): \(reason)" }
    }

    public struct Report: Sendable {
        public var segmentsChecked = 0
        public var bodyFilesChecked = 0
        public var rows: Int64 = 0
        public var bytes: Int64 = 0
        public var failures: [Failure] = []
        /// The newest link of the chain, `<segment id>:<chain hash>`: recorded outside the data
        /// directory and passed back as `expectedHead`, it makes removing or rewriting the rows up
        /// to it detectable (the chain alone cannot prove its own tail was not cut).
        public var head: String?
    }

    /// - Parameter expectedHead: a `head` from an earlier run; the chain must still hold that link.
    public static func verify(_ directory: DataDirectory, expectedHead: String? = nil) throws -> Report {
        let catalog = try StoreReader(directory: directory).catalog
        var report = Report()
        var prev = Catalog.genesis
        let rows = try catalog.allSegments()      // one snapshot: the chain checked is the head printed
        for s in rows {
            if s.prevHash != prev {
                report.failures.append(Failure(file: s.file, reason: "hash chain broken: a catalog row before segment \(s.id) was altered or removed"))
            }
            let expected = Catalog.chainHash(prev: s.prevHash, id: s.id, file: s.file, sha256: s.sha256, rows: s.rows, tsMin: s.tsMin, tsMax: s.tsMax)
            if expected != s.chainHash {
                report.failures.append(Failure(file: s.file, reason: "catalog row \(s.id) does not match its chain hash (altered)"))
            }
            prev = s.chainHash
            if s.state == .quarantined {
                report.failures.append(Failure(file: s.file, reason: "failed its checksums and was set aside in quarantine/ (its \(s.rows) spans are not readable)"))
                continue
            }
            guard s.state == .live else { continue }
            report.segmentsChecked += 1
            if let f = checkSegment(s, path: directory.segment(s.file)) {
                // A writer may have compacted or expired it since the catalog was read.
                if !FileSystem.exists(directory.segment(s.file)), try catalog.state(ofSegment: s.id) != .live { continue }
                report.failures.append(f)
            } else {
                report.rows += s.rows; report.bytes += s.bytes
            }
        }
        if let last = rows.last { report.head = "\(last.id):\(last.chainHash)" }
        if let expectedHead {
            let parts = expectedHead.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let id = Int64(parts[0]) else {
                throw FormatError("expected head '\(expectedHead)' is not of the form <segment id>:<chain hash>")
            }
            if let row = rows.first(where: { $0.id == id }) {
                if row.chainHash != parts[1] {
                    report.failures.append(Failure(file: row.file, reason: "chain link \(id) is not the recorded head \(parts[1].prefix(16))…: the catalog was rewritten"))
                }
            } else {
                report.failures.append(Failure(file: "catalog.sqlite", reason: "recorded chain head \(id) is missing: catalog rows were removed"))
            }
        }
        for problem in try catalog.auditChainProblems() {
            report.failures.append(Failure(file: "catalog.sqlite", reason: problem))
        }
        for b in try catalog.bodyFiles() where b.state == "live" {
            report.bodyFilesChecked += 1
            if let reason = checkBodyFile(directory.body(b.file), bytes: Int(b.bytes)) {
                if !FileSystem.exists(directory.body(b.file)),
                   try catalog.bodyFiles().first(where: { $0.id == b.id })?.state != "live" { continue }
                report.failures.append(Failure(file: b.file, reason: reason))
            }
        }
        return report
    }

    static func checkSegment(_ s: SegmentRecord, path: String) -> Failure? {
        guard let size = FileSystem.fileSize(path) else { return Failure(file: s.file, reason: "missing (removed from segments/)") }
        guard size == Int(s.bytes) else { return Failure(file: s.file, reason: "size \(size) bytes, catalog says \(s.bytes)") }
        do {
            let f = try FileDescriptor.openForReading(path)
            let hasher = SHA256Hasher()
            var offset = 0
            while offset < size {
                let n = min(8 << 20, size - offset)
                let chunk = try f.read(at: offset, count: n)
                chunk.withUnsafeBytes { hasher.update($0) }
                offset += n
            }
            guard Hex.encode(hasher.finish()) == s.sha256 else { return Failure(file: s.file, reason: "SHA-256 mismatch (contents altered)") }
            let reader = try SegmentReader(path: path)
            try reader.checkAllPages()
            guard reader.rowCount == Int(s.rows) else { return Failure(file: s.file, reason: "\(reader.rowCount) rows, catalog says \(s.rows)") }
        } catch let e as SegmentError {
            return Failure(file: s.file, reason: e.reason)
        } catch {
            return Failure(file: s.file, reason: "\(error)")
        }
        return nil
    }

    static func checkBodyFile(_ path: String, bytes: Int) -> String? {
        guard let size = FileSystem.fileSize(path) else { return "missing (removed from bodies/)" }
        guard size == bytes else { return "size \(size) bytes, catalog says \(bytes)" }
        do {
            let f = try FileDescriptor.openForReading(path)
            let head = try f.read(at: 0, count: BodyFile.headerSize)
            guard Array(head[0..<8]) == BodyFile.magic else { return "bad magic" }
            var hr = ByteReader(head, from: 8)
            let v = try hr.u32()
            guard v == BodyFile.version else { return "body file version \(v) is not supported (this build reads \(BodyFile.version))" }
            var offset = BodyFile.headerSize
            while offset < size {
                var r = ByteReader(try f.read(at: offset, count: BodyFile.blockHeaderSize))
                let clen = Int(try r.u32()); _ = try r.u32(); let crc = try r.u32()
                guard offset + BodyFile.blockHeaderSize + clen <= size else { return "block at \(offset) runs past the end" }
                let packed = try f.read(at: offset + BodyFile.blockHeaderSize, count: clen)
                guard CRC32C.checksum(packed) == crc else { return "checksum mismatch in block at \(offset)" }
                offset += BodyFile.blockHeaderSize + clen
            }
        } catch {
            return "\(error)"
        }
        return nil
    }
}
