import PlumbCore

/// Little-endian, varint-capable byte output used by every on-disk format in the store.
public struct ByteWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 0) { bytes = []; bytes.reserveCapacity(capacity) }

    public var count: Int { bytes.count }

    @inline(__always) public mutating func u8(_ v: UInt8) { bytes.append(v) }

    @inline(__always) public mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) public mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) public mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 { bytes.append(UInt8(x & 0x7F) | 0x80); x >>= 7 }
        bytes.append(UInt8(x))
    }

    /// Zigzag-encoded signed varint.
    @inline(__always) public mutating func svarint(_ v: Int64) {
        varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    public mutating func f64(_ v: Double) { u64(v.bitPattern) }

    /// Overwrites four bytes at `offset` (a length or checksum known only after what follows).
    public mutating func setU32(_ v: UInt32, at offset: Int) {
        for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }

    public mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    public mutating func lengthPrefixed(_ b: [UInt8]) { varint(UInt64(b.count)); bytes.append(contentsOf: b) }

    @inline(__always) public mutating func string(_ s: String) {
        varint(UInt64(s.utf8.count))
        // Contiguous UTF-8 (native strings) is one copy; the generic path goes byte by byte.
        if s.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil { bytes.append(contentsOf: s.utf8) }
    }
}

/// Thrown when stored bytes do not parse: always names what was being read.
public struct FormatError: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Bounds-checked reader over stored bytes; every read past the end throws instead of trapping.
public struct ByteReader {
    public let bytes: [UInt8]
    public var pos: Int
    public let end: Int

    public init(_ bytes: [UInt8], from: Int = 0, to: Int? = nil) {
        self.bytes = bytes; pos = from; end = to ?? bytes.count
    }

    public var remaining: Int { end - pos }

    @inline(__always) mutating func need(_ n: Int, _ what: StaticString) throws {
        if n < 0 || pos + n > end { throw FormatError("truncated while reading \(what)") }
    }

    public mutating func u8() throws -> UInt8 {
        try need(1, "byte"); defer { pos += 1 }; return bytes[pos]
    }

    public mutating func u32() throws -> UInt32 {
        try need(4, "u32")
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(bytes[pos + k]) << (8 * k) }
        pos += 4; return v
    }

    public mutating func u64() throws -> UInt64 {
        try need(8, "u64")
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[pos + k]) << (8 * k) }
        pos += 8; return v
    }

    public mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            try need(1, "varint")
            let b = bytes[pos]; pos += 1
            if shift == 63 && b > 1 { throw FormatError("varint overflows 64 bits") }
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
            if shift > 63 { throw FormatError("varint overflows 64 bits") }
        }
    }

    public mutating func svarint() throws -> Int64 {
        let u = try varint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    /// A varint used as a count or length of what follows: each element takes at least
    /// `elementSize` bytes, so it cannot exceed what is left to read.
    public mutating func length(_ what: StaticString, elementSize: Int = 1) throws -> Int {
        let v = try varint()
        guard v <= UInt64(remaining / max(elementSize, 1)) else {
            throw FormatError("implausible \(what) \(v)")
        }
        return Int(v)
    }

    /// A varint that must fit an Int (counts, offsets): too large is a format error, not a trap.
    public mutating func int(_ what: StaticString) throws -> Int {
        let v = try varint()
        guard v <= UInt64(Int32.max) * 1024 else { throw FormatError("implausible \(what) \(v)") }
        return Int(v)
    }

    public mutating func f64() throws -> Double { Double(bitPattern: try u64()) }

    public mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        try need(n, "bytes"); defer { pos += n }; return bytes[pos..<pos + n]
    }

    public mutating func lengthPrefixed() throws -> [UInt8] {
        let n = try length("length")
        return Array(try take(n))
    }

    public mutating func string() throws -> String {
        let n = try length("string length")
        let s = try take(n)
        guard let str = s.withUnsafeBufferPointer({ UTF8Validation.string($0) }) else {
            throw FormatError("invalid UTF-8 in stored string")
        }
        return str
    }
}
