import PlumbCore

/// Min/max bounds of a column over a row group or a whole file, for skipping data a predicate
/// cannot match. Strings keep bounds only up to 64 bytes (a longer max has no short upper bound).
public enum ZoneBounds: Sendable, Equatable {
    case none
    case int(min: Int64, max: Int64)
    case double(min: Double, max: Double)
    case string(min: String, max: String)
}

public struct ZoneMap: Sendable, Equatable {
    public var bounds: ZoneBounds
    public var nullCount: Int
    public var rowCount: Int

    public init(bounds: ZoneBounds, nullCount: Int, rowCount: Int) {
        self.bounds = bounds; self.nullCount = nullCount; self.rowCount = rowCount
    }

    static let maxStringBound = 64

    public static func of(_ c: ColumnVector) -> ZoneMap {
        ZoneMap(bounds: PageValues(c).bounds, nullCount: c.nullCount, rowCount: c.count)
    }

    /// A prefix of `s` of at most `maxStringBound` bytes, cut at a character boundary (a cut
    /// inside a UTF-8 sequence would decode as U+FFFD and could sort above `s`).
    static func lowerBound(_ s: String) -> String {
        let b = Array(s.utf8)
        guard b.count > maxStringBound else { return s }
        var n = maxStringBound
        while n > 0 && b[n] & 0xC0 == 0x80 { n -= 1 }
        return String(decoding: b[0..<n], as: UTF8.self)
    }

    /// The union of two zone maps of the same column.
    public func merged(with o: ZoneMap) -> ZoneMap {
        let b: ZoneBounds
        switch (bounds, o.bounds) {
        case (.int(let a, let b1), .int(let c, let d)): b = .int(min: Swift.min(a, c), max: Swift.max(b1, d))
        case (.double(let a, let b1), .double(let c, let d)): b = .double(min: Swift.min(a, c), max: Swift.max(b1, d))
        case (.string(let a, let b1), .string(let c, let d)):
            b = .string(min: UTF8Bytes.less(a, c) ? a : c, max: UTF8Bytes.less(b1, d) ? d : b1)
        case (.none, _) where rowCount == nullCount: b = o.bounds
        case (_, .none) where o.rowCount == o.nullCount: b = bounds
        default: b = .none
        }
        return ZoneMap(bounds: b, nullCount: nullCount + o.nullCount, rowCount: rowCount + o.rowCount)
    }

    func write(_ w: inout ByteWriter) {
        w.varint(UInt64(nullCount))
        switch bounds {
        case .none: w.u8(0)
        case .int(let a, let b): w.u8(1); w.svarint(a); w.svarint(b)
        case .double(let a, let b): w.u8(2); w.f64(a); w.f64(b)
        case .string(let a, let b): w.u8(3); w.string(a); w.string(b)
        }
    }

    static func read(_ r: inout ByteReader, rowCount: Int) throws -> ZoneMap {
        let nulls = try r.int("null count")
        let b: ZoneBounds
        switch try r.u8() {
        case 0: b = .none
        case 1: b = .int(min: try r.svarint(), max: try r.svarint())
        case 2: b = .double(min: try r.f64(), max: try r.f64())
        case 3: b = .string(min: try r.string(), max: try r.string())
        case let k: throw FormatError("unknown zone map kind \(k)")
        }
        return ZoneMap(bounds: b, nullCount: nulls, rowCount: rowCount)
    }
}
