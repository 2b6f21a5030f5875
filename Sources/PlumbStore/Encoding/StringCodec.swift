import PlumbCore

/// String column encoding, chosen per page:
/// - `hex`: every value is lowercase hex of one length (span ids, trace ids, key hashes): stored as
///   binary, 32-digit ids as two 64-bit words through `IntCodec` so time-ordered ids delta-pack;
/// - `dictionary`: a byte-sorted dictionary plus bit-packed codes, for low cardinality;
/// - `plain`: lengths through `IntCodec` then the bytes (the page's LZ4 pass compresses them).
public enum StringCodec {
    enum Mode: UInt8 { case plain = 0, dictionary = 1, hex = 2 }

    public static func encode(_ v: [String], into w: inout ByteWriter) {
        if let len = commonHexLength(v) { return encodeHex(v, length: len, into: &w) }
        if let dict = dictionary(v) {
            let dictBytes = dict.keys.reduce(0) { $0 + $1.utf8.count + 1 }
            let width = BitPacking.width(of: UInt64(max(dict.count - 1, 0)))
            let plainBytes = v.reduce(0) { $0 + $1.utf8.count + 1 }
            if dictBytes + BitPacking.byteCount(count: v.count, width: width) < plainBytes {
                return encodeDictionary(v, dict, width: width, into: &w)
            }
        }
        w.u8(Mode.plain.rawValue)
        IntCodec.encode(v.map { Int64($0.utf8.count) }, into: &w)
        for s in v { w.bytes.append(contentsOf: s.utf8) }
    }

    static func commonHexLength(_ v: [String]) -> Int? {
        guard let first = v.first else { return nil }
        let len = first.utf8.count
        guard len == 16 || len == 32 else { return nil }
        for var s in v {
            guard s.utf8.count == len else { return nil }
            let ok = s.withUTF8 { b in
                var bad = false
                for c in b { bad = bad || !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) }
                return !bad
            }
            if !ok { return nil }
        }
        return len
    }

    static func encodeHex(_ v: [String], length: Int, into w: inout ByteWriter) {
        w.u8(Mode.hex.rawValue); w.u8(UInt8(length))
        let words = length / 16
        var cols = [[Int64]](repeating: [], count: words)
        for k in 0..<words { cols[k].reserveCapacity(v.count) }
        for var s in v {
            s.withUTF8 { b in
                for k in 0..<words {
                    var x: UInt64 = 0
                    for j in 0..<16 {
                        let c = b[k * 16 + j]
                        x = x << 4 | UInt64(c <= 0x39 ? c &- 0x30 : c &- 0x57)   // validated lowercase hex
                    }
                    cols[k].append(Int64(bitPattern: x))
                }
            }
        }
        for c in cols { IntCodec.encode(c, into: &w) }
    }

    /// Distinct values keyed by their exact bytes; nil when too many to pay, or when two values are
    /// canonically equal as Swift strings but differ in bytes (those must never be merged).
    static func dictionary(_ v: [String]) -> [String: Int]? {
        var dict: [String: Int] = [:]
        let limit = max(16, v.count / 2)
        for s in v {
            if let existing = dict.index(forKey: s) {
                guard UTF8Bytes.equal(dict.keys[existing], s) else { return nil }
                continue
            }
            dict[s] = 0
            if dict.count > limit { return nil }
        }
        let sorted = dict.keys.sorted(by: UTF8Bytes.less)
        for (i, s) in sorted.enumerated() { dict[s] = i }
        return dict
    }

    static func encodeDictionary(_ v: [String], _ dict: [String: Int], width: Int, into w: inout ByteWriter) {
        w.u8(Mode.dictionary.rawValue)
        var entries = [String](repeating: "", count: dict.count)
        for (s, i) in dict { entries[i] = s }
        w.varint(UInt64(entries.count))
        IntCodec.encode(entries.map { Int64($0.utf8.count) }, into: &w)
        for s in entries { w.bytes.append(contentsOf: s.utf8) }
        w.u8(UInt8(width))
        BitPacking.pack(count: v.count, width: width, into: &w) { UInt64(dict[v[$0]]!) }
    }

    public static func decode(_ r: inout ByteReader, count: Int) throws -> [String] {
        guard let mode = Mode(rawValue: try r.u8()) else { throw FormatError("unknown string encoding") }
        switch mode {
        case .plain:
            return try readStrings(&r, lengths: try IntCodec.decode(&r, count: count))
        case .dictionary:
            let k = try r.length("dictionary size")
            let entries = try readStrings(&r, lengths: try IntCodec.decode(&r, count: k))
            let width = Int(try r.u8())
            var out = [String](); out.reserveCapacity(count)
            var bad = false
            try BitPacking.unpack(&r, count: count, width: width) { _, code in
                if code < UInt64(entries.count) { out.append(entries[Int(code)]) } else { bad = true; out.append("") }
            }
            if bad { throw FormatError("dictionary code out of range") }
            return out
        case .hex:
            let length = Int(try r.u8())
            guard length == 16 || length == 32 else { throw FormatError("hex string length \(length)") }
            let words = length / 16
            var cols: [[Int64]] = []
            for _ in 0..<words { cols.append(try IntCodec.decode(&r, count: count)) }
            var out = [String](); out.reserveCapacity(count)
            for i in 0..<count {
                var s = ""
                for k in 0..<words { s += hex64(UInt64(bitPattern: cols[k][i])) }
                out.append(s)
            }
            return out
        }
    }

    static func readStrings(_ r: inout ByteReader, lengths: [Int64]) throws -> [String] {
        var out = [String](); out.reserveCapacity(lengths.count)
        for n in lengths {
            guard n >= 0, n <= Int64(r.remaining) else { throw FormatError("string length \(n) past the page end") }
            let slice = try r.take(Int(n))
            guard let s = slice.withUnsafeBufferPointer({ String(validating: $0, as: UTF8.self) }) else {
                throw FormatError("invalid UTF-8 in stored string")
            }
            out.append(s)
        }
        return out
    }

    static func hex64(_ v: UInt64) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var b = [UInt8](repeating: 0, count: 16)
        var x = v
        for k in stride(from: 15, through: 0, by: -1) { b[k] = digits[Int(x & 0xF)]; x >>= 4 }
        return String(decoding: b, as: UTF8.self)
    }
}
