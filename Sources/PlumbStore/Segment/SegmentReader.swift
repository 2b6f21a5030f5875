import PlumbCore

/// Reads a segment file: validates the trailer and footer on open, and each page's CRC32C before
/// decoding it. Every defect is a `SegmentError` naming the file and what is wrong; nothing traps.
///
/// ```swift
/// let seg = try SegmentReader(path: "segments/seg-0000000001.plseg")
/// let models = try seg.column("model")          // all row groups, concatenated
/// ```
public struct SegmentError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    /// The system failed (cannot open, EIO, EMFILE, ...), as opposed to the bytes being wrong:
    /// worth retrying, never a reason to set the segment aside.
    public var isTransient = false
    public var description: String { "\(path): \(reason)" }

    public init(path: String, reason: String) { self.path = path; self.reason = reason }

    init(path: String, io: Error) {
        self.path = path
        reason = "\(io)"
        if let e = io as? IOError { isTransient = !e.operation.hasPrefix("read (file shorter") }
    }
}

public final class SegmentReader: Sendable {
    public let path: String
    public let footer: SegmentFooter
    public let fileSize: Int
    private let file: FileDescriptor

    public init(path: String) throws {
        self.path = path
        do {
            file = try FileDescriptor.openForReading(path)
            fileSize = try file.size()
        } catch { throw SegmentError(path: path, io: error) }
        let minimum = SegmentFooter.headerSize + SegmentFooter.trailerSize
        guard fileSize >= minimum else { throw SegmentError(path: path, reason: "truncated: \(fileSize) bytes") }
        do {
            let header = try file.read(at: 0, count: SegmentFooter.headerSize)
            guard Array(header[0..<8]) == SegmentFooter.magic else { throw SegmentError(path: path, reason: "not a Plumb segment (bad magic)") }
            var hr = ByteReader(header, from: 8)
            let version = try hr.u32()
            guard SegmentFooter.readableVersions.contains(version) else {
                throw SegmentError(path: path, reason: "segment format version \(version) is not supported (this build reads \(SegmentFooter.readableVersions.lowerBound) to \(SegmentFooter.readableVersions.upperBound))")
            }
            let headerFlags = try hr.u32()
            guard headerFlags == 0 else { throw SegmentError(path: path, reason: "unknown header flags \(headerFlags)") }
            let trailer = try file.read(at: fileSize - SegmentFooter.trailerSize, count: SegmentFooter.trailerSize)
            guard Array(trailer[8..<16]) == SegmentFooter.endMagic else {
                throw SegmentError(path: path, reason: "truncated or corrupt: trailer magic missing")
            }
            var tr = ByteReader(trailer)
            let flen = Int(try tr.u32()), fcrc = try tr.u32()
            guard flen <= fileSize - minimum else { throw SegmentError(path: path, reason: "footer length \(flen) exceeds the file") }
            let fbytes = try file.read(at: fileSize - SegmentFooter.trailerSize - flen, count: flen)
            guard CRC32C.checksum(fbytes) == fcrc else { throw SegmentError(path: path, reason: "footer checksum mismatch") }
            footer = try SegmentFooter.decode(fbytes)
            guard footer.schemaVersion <= SpanSchema.version else {
                throw SegmentError(path: path, reason: "span schema version \(footer.schemaVersion) is newer than this build's (\(SpanSchema.version))")
            }
            let pagesEnd = fileSize - SegmentFooter.trailerSize - flen
            for g in footer.rowGroups {
                guard g.pages.count == footer.columns.count else { throw SegmentError(path: path, reason: "row group column count mismatch") }
                for p in g.pages where p.offset < SegmentFooter.headerSize || p.length > pagesEnd || p.offset > pagesEnd - p.length {
                    throw SegmentError(path: path, reason: "page at \(p.offset) lies outside the page area")
                }
                if let f = g.idFilter, f.offset < SegmentFooter.headerSize || f.length > pagesEnd || f.offset > pagesEnd - f.length {
                    throw SegmentError(path: path, reason: "span-id filter at \(f.offset) lies outside the page area")
                }
            }
        } catch let e as SegmentError { throw e } catch let e as IOError {
            throw SegmentError(path: path, io: e)
        } catch let e as FormatError {
            throw SegmentError(path: path, reason: "corrupt footer: \(e.description)")
        } catch { throw SegmentError(path: path, reason: "\(error)") }
    }

    public var rowCount: Int { footer.rowCount }

    deinit { PageCache.shared.forget(reader: ObjectIdentifier(self)) }

    public func read(rowGroup g: Int, column c: Int) throws -> ColumnVector {
        try decodeChecked(rowGroup: g, column: c) { try PageCodec.decode($0, type: footer.columns[c].type) }
    }

    /// As `read`, past `PageCache`: for a rewrite that reads each page once, so that it
    /// neither fills the cache with pages about to be deleted nor pushes out the ones queries use.
    public func readUncached(rowGroup g: Int, column c: Int) throws -> ColumnVector {
        try decodeChecked(rowGroup: g, column: c, fromFile: true) { try PageCodec.decode($0, type: footer.columns[c].type) }
    }

    /// One page's bytes, its CRC32C checked: from `PageCache` when it is on and has them (unless
    /// `fromFile`), else read from the file (and kept).
    func page(rowGroup g: Int, column c: Int, fromFile: Bool = false) throws -> [UInt8] {
        let page = footer.rowGroups[g].pages[c]
        let key = PageCache.Key(reader: ObjectIdentifier(self), offset: page.offset)
        if !fromFile, let kept = PageCache.shared.page(key) { return kept }
        let bytes: [UInt8]
        do { bytes = try file.read(at: page.offset, count: page.length) } catch {
            throw SegmentError(path: path, io: error)
        }
        guard CRC32C.checksum(bytes) == page.crc else {
            throw SegmentError(path: path, reason: "checksum mismatch in column \(footer.columns[c].name), row group \(g)")
        }
        if !fromFile { PageCache.shared.keep(key, bytes) }
        return bytes
    }

    /// Reads one page (`page`), decodes it with `decode` and checks the row count; every
    /// failure is a `SegmentError` naming the column and row group.
    func decodeChecked<T: RowCounted>(rowGroup g: Int, column c: Int, expectedRows: Int? = nil, fromFile: Bool = false,
                                      _ decode: ([UInt8]) throws -> T) throws -> T {
        let bytes = try page(rowGroup: g, column: c, fromFile: fromFile)
        let name = footer.columns[c].name
        do {
            let v = try decode(bytes)
            guard v.rowCount == expectedRows ?? footer.rowGroups[g].rowCount else {
                throw SegmentError(path: path, reason: "column \(name), row group \(g): \(v.rowCount) rows, footer says \(footer.rowGroups[g].rowCount)")
            }
            return v
        } catch let e as SegmentError { throw e } catch {
            throw SegmentError(path: path, reason: "column \(name), row group \(g): \(error)")
        }
    }

    public func column(_ name: String) throws -> ColumnVector {
        guard let c = footer.columnIndex(name) else { throw SegmentError(path: path, reason: "no column \(name)") }
        return try column(at: c)
    }

    public func column(at c: Int) throws -> ColumnVector {
        var parts: [ColumnVector] = []
        for g in footer.rowGroups.indices { parts.append(try read(rowGroup: g, column: c)) }
        return ColumnVector.concatenate(parts)
    }

    /// Every column in `SegmentSchema.columns` order (the layout `SpanColumns.spans(from:)` takes).
    public func allColumns() throws -> [ColumnVector] {
        var out: [ColumnVector] = []
        for want in SegmentSchema.columns {
            guard let c = footer.columnIndex(want.name) else { throw SegmentError(path: path, reason: "missing column \(want.name)") }
            out.append(try column(at: c))
        }
        return out
    }

    /// One row group's columns in `SegmentSchema.columns` order (for readers that go a row
    /// group at a time, such as the exporters).
    public func allColumns(rowGroup g: Int) throws -> [ColumnVector] {
        try SegmentSchema.columns.map { want in
            guard let c = footer.columnIndex(want.name) else { throw SegmentError(path: path, reason: "missing column \(want.name)") }
            return try read(rowGroup: g, column: c)
        }
    }

    /// Decodes every page (checking every CRC), and checks that each row group's span-id filter
    /// holds every span id of the row group: the deep check `plumb verify` runs.
    public func checkAllPages() throws {
        let ids = footer.columnIndex("span_id")
        for g in footer.rowGroups.indices {
            for c in footer.columns.indices {
                let v = try decodeChecked(rowGroup: g, column: c, fromFile: true) { try PageCodec.decode($0, type: footer.columns[c].type) }
                if c == ids, footer.rowGroups[g].idFilter != nil, case .string(let all) = v.values {
                    let bytes = try filterBytes(rowGroup: g, fromFile: true)
                    for id in all where !SplitBlockBloomFilter.bytesMightContain(bytes, SplitBlockBloomFilter.hash(id)) {
                        throw SegmentError(path: path, reason: "the span-id filter of row group \(g) lacks span \(id)")
                    }
                }
            }
        }
    }

    /// Whether row group `g` may hold a span id of hash `h` (`SplitBlockBloomFilter.hash`):
    /// false only when its filter rules it out; true when it has none (format 1).
    public func mayContain(spanIDHash h: UInt64, rowGroup g: Int) throws -> Bool {
        guard footer.rowGroups[g].idFilter != nil else { return true }
        return SplitBlockBloomFilter.bytesMightContain(try filterBytes(rowGroup: g), h)
    }

    /// A row group's filter, its CRC32C checked (a flipped bit must not hide a span): from
    /// `PageCache` when it has it, else read from the file (and kept).
    func filterBytes(rowGroup g: Int, fromFile: Bool = false) throws -> [UInt8] {
        guard let f = footer.rowGroups[g].idFilter else { return [] }
        let key = PageCache.Key(reader: ObjectIdentifier(self), offset: f.offset)
        if !fromFile, let kept = PageCache.shared.page(key) { return kept }
        let bytes: [UInt8]
        do { bytes = try file.read(at: f.offset, count: f.length) } catch { throw SegmentError(path: path, io: error) }
        guard CRC32C.checksum(bytes) == f.crc else {
            throw SegmentError(path: path, reason: "checksum mismatch in the span-id filter of row group \(g)")
        }
        if !fromFile { PageCache.shared.keep(key, bytes) }
        return bytes
    }
}
