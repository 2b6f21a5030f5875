import PlumbCore

/// String column encoding, chosen per page:
/// - `hex`: every value is lowercase hex of one length (span ids, trace ids, key hashes): stored as
///   binary, 32-digit ids as two 64-bit words through `IntCodec` so time-ordered ids delta-pack;
/// - `dictionary`: a byte-sorted dictionary plus bit-packed codes, for low cardinality;
/// - `plain`: lengths through `IntCodec` then the bytes (the page's LZ4 pass compresses them).
public enum StringCodec {
    enum Mode: UInt8 { case plain = 0, dictionary = 1, hex = 2 }

    /// Encodes `v` and returns the byte-order bounds of its values (for the zone map).
    @discardableResult
    public static func encode(_ v: [String], into w: inout ByteWriter) -> ZoneBounds {
        encode(ByteStrings(v), into: &w)
    }

    @discardableResult
    public static func encode(_ strings: ByteStrings, into w: inout ByteWriter) -> ZoneBounds {
        strings.withValues { v in
            if let words = hexWords(v), !mostlyRepeated(words) {
                return encodeHex(words, length: words.count * 16, into: &w)
            }
            var interner = StringInterner(expected: min(v.count, 1024))
            var codes = ColumnBuffer<UInt32>(capacity: v.count)
            let limit = max(16, v.count / 2)
            for i in 0..<v.count {
                codes.append(UInt32(interner.code(bytes: v[i])))
                if interner.count > limit { return encodePlain(v, into: &w) }
            }
            return encode(codes: codes.buffer, dictionary: interner, checkHex: false, into: &w)
        }
    }

    static func bounds(min lo: String, max hi: String) -> ZoneBounds {
        guard hi.utf8.count <= ZoneMap.maxStringBound else { return .none }
        return .string(min: ZoneMap.lowerBound(lo), max: hi)
    }

    static func encodePlain(_ v: ByteStrings.Values, into w: inout ByteWriter) -> ZoneBounds {
        w.u8(Mode.plain.rawValue)
        IntCodec.encode((0..<v.count).map { Int64(v.length($0)) }, into: &w)
        w.bytes.append(contentsOf: v.base)
        return bounds(of: v)
    }

    /// Zone bounds of byte strings: the least and greatest by bytes.
    static func bounds(of v: ByteStrings.Values) -> ZoneBounds {
        v.extremes().map { bounds(min: v.string($0.min), max: v.string($0.max)) } ?? .none
    }

    /// When every value is lowercase hex of one length (16 or 32), the values as 64-bit words.
    static func hexWords(_ v: ByteStrings.Values) -> [[UInt64]]? { hexWords(count: v.count) { v[$0] } }

    /// The same for `count` values given by `value` (the dictionary path passes its entries).
    @inline(__always)
    static func hexWords(count: Int, _ value: (Int) -> UnsafeBufferPointer<UInt8>) -> [[UInt64]]? {
        guard count > 0 else { return nil }
        let len = value(0).count
        guard len == 16 || len == 32 else { return nil }
        var cols = [[UInt64]](repeating: [], count: len / 16)
        for k in cols.indices { cols[k].reserveCapacity(count) }
        for i in 0..<count {
            let b = value(i)
            guard b.count == len else { return nil }
            for k in cols.indices {
                guard let x = hexWord(b, at: k &* 16) else { return nil }
                cols[k].append(x)
            }
        }
        return cols
    }

    /// The 16 lowercase hex digits at `start` as a word; nil if any is not one.
    @inline(__always) static func hexWord(_ b: UnsafeBufferPointer<UInt8>, at start: Int) -> UInt64? {
        hexDigitValues.withUnsafeBufferPointer { table in
            var x: UInt64 = 0, bad: UInt8 = 0
            for j in 0..<16 {
                let d = table[Int(b[start &+ j])]
                bad |= d
                x = x << 4 | UInt64(d & 0xF)
            }
            return bad & 0x80 == 0 ? x : nil
        }
    }

    /// Lowercase hex digit values; 0x80 marks anything else (uppercase is not the canonical form).
    static let hexDigitValues: [UInt8] = (0..<256).map { c in
        switch c {
        case 0x30...0x39: UInt8(c - 0x30)
        case 0x61...0x66: UInt8(c - 0x57)
        default: 0x80
        }
    }

    /// Few distinct values among the first thousand: a dictionary will beat raw words.
    static func mostlyRepeated(_ words: [[UInt64]]) -> Bool {
        let n = min(words.first?.count ?? 0, 1024)
        guard n > 0 else { return false }
        var seen = Set<[UInt64]>()
        for i in 0..<n { seen.insert(words.map { $0[i] }) }
        return seen.count * 4 < n
    }

    static func encodeHex(_ cols: [[UInt64]], length: Int, into w: inout ByteWriter) -> ZoneBounds {
        w.u8(Mode.hex.rawValue); w.u8(UInt8(length))
        for c in cols { IntCodec.encode(c.map { Int64(bitPattern: $0) }, into: &w) }
        guard !cols[0].isEmpty else { return .none }
        var lo = 0, hi = 0
        func less(_ a: Int, _ b: Int) -> Bool {
            for c in cols where c[a] != c[b] { return c[a] < c[b] }
            return false
        }
        for i in 1..<cols[0].count {
            if less(i, lo) { lo = i }
            if less(hi, i) { hi = i }
        }
        return .string(min: cols.map { Hex.string($0[lo]) }.joined(), max: cols.map { Hex.string($0[hi]) }.joined())
    }

    public static func decode(_ r: inout ByteReader, count: Int) throws -> [String] {
        let page = try StringPage.decode(&r, count: count)
        var out = [String](); out.reserveCapacity(count)
        for i in 0..<count { out.append(try page.string(i)) }
        return out
    }

    /// Strings of `lengths` bytes back to back. All-ASCII bytes (the usual case: ids, models,
    /// users) are made into strings without a validation pass per string, whose generic code
    /// path was a tenth of a dictionary-grouped query's time.
    static func readStrings(_ r: inout ByteReader, lengths: [Int64]) throws -> [String] {
        var total = 0
        for n in lengths {
            guard n >= 0, n <= Int64(r.remaining - total) else { throw FormatError("string length \(n) past the page end") }
            total += Int(n)
        }
        let blob = try r.take(total)
        return try blob.withUnsafeBufferPointer { b in
            let ascii = UTF8Bytes.isASCII(b)
            var out = [String](); out.reserveCapacity(lengths.count)
            var at = 0
            for n in lengths {
                let s = UnsafeBufferPointer(rebasing: b[at..<at + Int(n)])
                at += Int(n)
                if ascii { out.append(String(decoding: s, as: UTF8.self)); continue }
                guard let v = UTF8Validation.string(s) else { throw FormatError("invalid UTF-8 in stored string") }
                out.append(v)
            }
            return out
        }
    }

    /// Every code must name one of the dictionary's `entryCount` entries: a corrupt page fails
    /// here, not later as an index out of range.
    static func checkCodes(_ codes: [UInt32], entryCount: Int) throws {
        if !codes.isEmpty && BitPacking.largest(codes) >= UInt32(entryCount) { throw FormatError("dictionary code out of range") }
    }
}
