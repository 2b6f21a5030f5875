import PlumbCore

/// Where one column chunk of a row group lies in the file, its checksum and its zone map.
public struct PageInfo: Sendable, Equatable {
    public var offset: Int
    public var length: Int
    public var crc: UInt32
    public var zone: ZoneMap
}

public struct RowGroupInfo: Sendable, Equatable {
    public var rowCount: Int
    public var pages: [PageInfo]          // one per column, in footer column order
    /// The split-block Bloom filter of the row group's span ids (format 2; nil in format 1).
    public var idFilter: FilterInfo? = nil
}

/// Where a row group's span-id filter lies: right after its pages.
public struct FilterInfo: Sendable, Equatable {
    public var offset: Int
    public var length: Int
    public var crc: UInt32
}

/// The segment footer: the column index, the row groups with their pages and zone maps, and the
/// file-level zone maps. Byte layout: `schemas/segment-format.md`.
public struct SegmentFooter: Sendable, Equatable {
    public static let magic: [UInt8] = Array("PLUMBSEG".utf8)
    public static let endMagic: [UInt8] = Array("PLUMBEND".utf8)
    /// Written by this build: 2 adds span-id filters (footer section 1). Read: 1 and 2.
    public static let formatVersion: UInt32 = 2
    public static let readableVersions: ClosedRange<UInt32> = 1...2
    /// Footer section tags after the file zone maps (format 2).
    static let idFilterSection: UInt64 = 1
    public static let headerSize = 16
    public static let trailerSize = 16

    public var schemaVersion: Int
    public var columns: [ColumnDescriptor]
    public var rowGroups: [RowGroupInfo]
    public var fileZones: [ZoneMap]
    public var createdAt: Int64

    public var rowCount: Int { rowGroups.reduce(0) { $0 + $1.rowCount } }

    public func columnIndex(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 4096)
        w.varint(UInt64(schemaVersion))
        w.svarint(createdAt)
        w.varint(UInt64(columns.count))
        for c in columns {
            w.string(c.name); w.u8(Self.typeCode(c.type)); w.u8(c.nullable ? 1 : 0)
        }
        w.varint(UInt64(rowGroups.count))
        for g in rowGroups {
            w.varint(UInt64(g.rowCount))
            for p in g.pages {
                w.varint(UInt64(p.offset)); w.varint(UInt64(p.length)); w.u32(p.crc); p.zone.write(&w)
            }
        }
        for z in fileZones { z.write(&w) }
        if rowGroups.contains(where: { $0.idFilter != nil }) {
            w.varint(Self.idFilterSection)
            for g in rowGroups {
                let f = g.idFilter ?? FilterInfo(offset: 0, length: 0, crc: 0)
                w.varint(UInt64(f.offset)); w.varint(UInt64(f.length)); w.u32(f.crc)
            }
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> SegmentFooter {
        var r = ByteReader(bytes)
        let schemaVersion = try r.int("schema version")
        let createdAt = try r.svarint()
        let ncol = try r.length("column count", elementSize: 3)
        var columns: [ColumnDescriptor] = []
        for _ in 0..<ncol {
            let name = try r.string()
            let type = try typeFrom(try r.u8())
            columns.append(ColumnDescriptor(name, type, nullable: try r.u8() != 0))
        }
        let ngroups = try r.length("row group count")
        var groups: [RowGroupInfo] = []
        var total = 0
        for _ in 0..<ngroups {
            let rows = try r.int("row count")
            var pages: [PageInfo] = []
            for _ in 0..<ncol {
                let off = try r.int("page offset"), len = try r.int("page length"), crc = try r.u32()
                pages.append(PageInfo(offset: off, length: len, crc: crc, zone: try ZoneMap.read(&r, rowCount: rows)))
            }
            groups.append(RowGroupInfo(rowCount: rows, pages: pages))
            total += rows
        }
        var zones: [ZoneMap] = []
        for _ in 0..<ncol { zones.append(try ZoneMap.read(&r, rowCount: total)) }
        while r.remaining > 0 {
            let tag = try r.varint()
            guard tag == idFilterSection else { throw FormatError("unknown footer section \(tag)") }
            for g in groups.indices {
                let off = try r.int("filter offset"), len = try r.int("filter length"), crc = try r.u32()
                guard len % SplitBlockBloomFilter.bytesPerBlock == 0 else { throw FormatError("filter length \(len) is not a whole number of blocks") }
                if len > 0 { groups[g].idFilter = FilterInfo(offset: off, length: len, crc: crc) }
            }
        }
        return SegmentFooter(schemaVersion: schemaVersion, columns: columns, rowGroups: groups, fileZones: zones, createdAt: createdAt)
    }

    static func typeCode(_ t: ColumnType) -> UInt8 {
        switch t { case .string: 1; case .timestamp: 2; case .double: 3; case .int: 4; case .bool: 5; case .map: 6 }
    }

    static func typeFrom(_ c: UInt8) throws -> ColumnType {
        switch c {
        case 1: .string
        case 2: .timestamp
        case 3: .double
        case 4: .int
        case 5: .bool
        case 6: .map
        default: throw FormatError("unknown column type code \(c)")
        }
    }
}
