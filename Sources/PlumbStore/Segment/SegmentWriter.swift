#if canImport(Glibc)
import Glibc
#endif
import PlumbCore

/// Writes one immutable segment file, row group by row group.
///
/// ```swift
/// let info = try SegmentWriter.write(columns: SpanColumns.columns(of: spans), to: "seg.tmp")
/// info.sha256   // hex digest of the whole file, for the catalog's hash chain
///
/// let w = try SegmentWriter(path: "seg.tmp")          // or page by page, as encoded
/// try w.add(rowGroup: pages, rows: 65_536)
/// let done = try w.finish()
/// ```
/// Not thread-safe: one thread at a time (the publisher hands it from step to step with `InTurn`).
public final class SegmentWriter: @unchecked Sendable {
    public static let defaultRowGroupSize = 65_536

    public struct Written: Sendable {
        public let footer: SegmentFooter
        public let bytes: Int
        public let sha256: String
    }

    public typealias Page = (page: [UInt8], zone: ZoneMap)

    let schema: [ColumnDescriptor]
    private let file: FileDescriptor
    private let hasher = SHA256Hasher()
    private var offset = 0
    private var groups: [RowGroupInfo] = []
    private var fileZones: [ZoneMap?]
    private var buffer: [UInt8] = []

    /// Creates the file at `path` (which must not be visible to readers yet) and writes its header.
    public init(path: String, schema: [ColumnDescriptor] = SegmentSchema.columns) throws {
        self.schema = schema
        fileZones = Array(repeating: nil, count: schema.count)
        file = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        var header = ByteWriter()
        header.append(SegmentFooter.magic); header.u32(SegmentFooter.formatVersion); header.u32(0)
        try emit(header.bytes)
    }

    private func emit(_ bytes: [UInt8]) throws {
        try file.write(bytes)
        bytes.withUnsafeBytes { hasher.update($0) }
        offset += bytes.count
    }

    /// Appends a row group: one encoded page per schema column, then (when given) the
    /// split-block Bloom filter of its span ids.
    public func add(rowGroup pages: [Page], rows: Int, idFilter: SplitBlockBloomFilter? = nil) throws {
        try add(rowGroup: pages, rows: rows, idFilterBytes: idFilter?.bytes)
    }

    /// `add` with the filter as its bytes (a row group copied from another segment).
    func add(rowGroup pages: [Page], rows: Int, idFilterBytes: [UInt8]?) throws {
        precondition(pages.count == schema.count, "page count does not match the schema")
        buffer.removeAll(keepingCapacity: true)
        var infos: [PageInfo] = []
        infos.reserveCapacity(pages.count)
        for (ci, p) in pages.enumerated() {
            infos.append(PageInfo(offset: offset + buffer.count, length: p.page.count, crc: CRC32C.checksum(p.page), zone: p.zone))
            buffer.append(contentsOf: p.page)
            fileZones[ci] = fileZones[ci].map { $0.merged(with: p.zone) } ?? p.zone
        }
        var filterInfo: FilterInfo? = nil
        if let bytes = idFilterBytes {
            filterInfo = FilterInfo(offset: offset + buffer.count, length: bytes.count, crc: CRC32C.checksum(bytes))
            buffer.append(contentsOf: bytes)
        }
        let at = offset
        try emit(buffer)
        // The fsync in `finish` then waits for the last row group only, not the whole file.
        file.startWriteback(offset: at, count: buffer.count)
        groups.append(RowGroupInfo(rowCount: rows, pages: infos, idFilter: filterInfo))
    }

    /// Writes the footer and fsyncs.
    public func finish() throws -> Written {
        let footer = SegmentFooter(
            schemaVersion: SpanSchema.version, columns: schema, rowGroups: groups,
            fileZones: fileZones.map { $0 ?? ZoneMap(bounds: .none, nullCount: 0, rowCount: 0) },
            createdAt: Timestamp.nowMicros())
        let fbytes = footer.encode()
        var trailer = ByteWriter()
        trailer.u32(UInt32(fbytes.count)); trailer.u32(CRC32C.checksum(fbytes)); trailer.append(SegmentFooter.endMagic)
        try emit(fbytes + trailer.bytes)
        try file.sync()
        return Written(footer: footer, bytes: offset, sha256: Hex.encode(hasher.finish()))
    }

    /// Writes and fsyncs a whole segment from columns.
    public static func write(columns: [ColumnVector], schema: [ColumnDescriptor] = SegmentSchema.columns,
                             to path: String, rowGroupSize: Int = defaultRowGroupSize) throws -> Written {
        precondition(columns.count == schema.count, "column count does not match the schema")
        let rows = columns.first?.count ?? 0
        let writer = try SegmentWriter(path: path, schema: schema)
        let ids = schema.firstIndex { $0.name == "span_id" }
        var start = 0
        while start < rows {
            let end = min(rows, start + rowGroupSize)
            let slices = columns.map { $0.slice(start..<end) }
            try writer.add(rowGroup: slices.enumerated().map { ci, col in PageCodec.encodeWithZone(col, type: schema[ci].type) },
                           rows: end - start, idFilter: ids.map { SplitBlockBloomFilter(spanIDs: slices[$0]) })
            start = end
        }
        return try writer.finish()
    }
}

extension ColumnVector {
    public func slice(_ r: Range<Int>) -> ColumnVector {
        if r.lowerBound == 0 && r.upperBound == count { return self }
        let v: ColumnValues
        switch values {
        case .int(let a): v = .int(Array(a[r]))
        case .double(let a): v = .double(Array(a[r]))
        case .bool(let a): v = .bool(Array(a[r]))
        case .string(let a): v = .string(Array(a[r]))
        case .map(let a): v = .map(Array(a[r]))
        }
        return ColumnVector(v, validity: validity.map { Array($0[r]) })
    }

    /// Joins vectors of one type end to end (row groups into a whole column).
    public static func concatenate(_ parts: [ColumnVector]) -> ColumnVector {
        guard let first = parts.first else { return ColumnVector(.int([])) }
        if parts.count == 1 { return first }
        func join<T>(_ pick: (ColumnValues) -> [T]?) -> [T] {
            var out = [T](); out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
            for p in parts { out.append(contentsOf: pick(p.values) ?? []) }
            return out
        }
        let values: ColumnValues
        switch first.values {
        case .int: values = .int(join { if case .int(let a) = $0 { a } else { nil } })
        case .double: values = .double(join { if case .double(let a) = $0 { a } else { nil } })
        case .bool: values = .bool(join { if case .bool(let a) = $0 { a } else { nil } })
        case .string: values = .string(join { if case .string(let a) = $0 { a } else { nil } })
        case .map: values = .map(join { if case .map(let a) = $0 { a } else { nil } })
        }
        var validity: [Bool]? = nil
        if parts.contains(where: { $0.validity != nil }) {
            var v = [Bool](); v.reserveCapacity(values.count)
            for p in parts { v.append(contentsOf: p.validity ?? Array(repeating: true, count: p.count)) }
            validity = v
        }
        return ColumnVector(values, validity: validity)
    }
}
