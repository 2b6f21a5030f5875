import PlumbCore

/// A string page decoded only as far as needed to build any one of its values: dictionary codes
/// and entries, plain bytes with offsets, or hex words. Scans build strings only for the rows
/// they return (a span looked up by id builds one id, not 65,536).
struct StringPage {
    enum Storage {
        case dictionary(codes: BitPacking.Packed, entries: [String])
        case plain(bytes: [UInt8], offsets: [Int])                 // value i = bytes[offsets[i]..<offsets[i+1]]
        case hex(words: [[Int64]], length: Int)
    }

    let storage: Storage
    let count: Int

    static func decode(_ r: inout ByteReader, count: Int) throws -> StringPage {
        guard let mode = StringCodec.Mode(rawValue: try r.u8()) else { throw FormatError("unknown string encoding") }
        switch mode {
        case .dictionary:
            let k = try r.length("dictionary size")
            let entries = try StringCodec.readStrings(&r, lengths: try IntCodec.decode(&r, count: k))
            let codes = try BitPacking.Packed(&r, count: count, width: Int(try r.u8()))
            return StringPage(storage: .dictionary(codes: codes, entries: entries.isEmpty ? [""] : entries), count: count)
        case .plain:
            let lengths = try IntCodec.decode(&r, count: count)
            var offsets = [Int](repeating: 0, count: count + 1)
            var total = 0
            for (i, n) in lengths.enumerated() {
                guard n >= 0, n <= Int64(r.remaining - total) else { throw FormatError("string length \(n) past the page end") }
                total += Int(n)
                offsets[i + 1] = total
            }
            let bytes = Array(try r.take(total))
            return StringPage(storage: .plain(bytes: bytes, offsets: offsets), count: count)
        case .hex:
            let length = Int(try r.u8())
            guard length == 16 || length == 32 else { throw FormatError("hex string length \(length)") }
            var words: [[Int64]] = []
            for _ in 0..<(length / 16) { words.append(try IntCodec.decode(&r, count: count)) }
            return StringPage(storage: .hex(words: words, length: length), count: count)
        }
    }

    /// Value `i`; plain bytes are validated as UTF-8 here.
    func string(_ i: Int) throws -> String {
        switch storage {
        case .dictionary(let codes, let entries):
            let c = Int(codes[i])
            guard c < entries.count else { throw FormatError("dictionary code out of range") }
            return entries[c]
        case .plain(let bytes, let offsets):
            guard let s = bytes[offsets[i]..<offsets[i + 1]].withUnsafeBufferPointer({ UTF8Validation.string($0) }) else {
                throw FormatError("invalid UTF-8 in stored string")
            }
            return s
        case .hex(let words, let length):
            return String(unsafeUninitializedCapacity: length) { buf in
                var k = 0
                for w in words {
                    let x = UInt64(bitPattern: w[i])
                    for shift in stride(from: 60, through: 0, by: -4) {
                        let d = UInt8((x >> UInt64(shift)) & 0xF)
                        buf[k] = d < 10 ? 0x30 + d : 0x57 + d
                        k += 1
                    }
                }
                return length
            }
        }
    }

    /// The values at `rows` (all rows when nil), as a scan column over those rows.
    func column(rows: [Int]?, validity: [Bool]?, presentIndex: (Int) -> Int) throws -> ScanColumn {
        let picked = rows ?? Array(0..<(validity?.count ?? count))
        let valid = validity.map { v in picked.map { v[$0] } }
        if case .dictionary(let codes, let entries) = storage {
            // Every code when most rows are wanted; one at a time for a few.
            let dense: [UInt32]? = picked.count * 8 > codes.count ? try codes.all() : nil
            var out = [UInt32](repeating: 0, count: picked.count)
            for (k, row) in picked.enumerated() where valid?[k] != false {
                let p = presentIndex(row)
                out[k] = dense?[p] ?? codes[p]
            }
            try StringCodec.checkCodes(out, entryCount: entries.count)
            return .dictionary(codes: out, entries: entries, validity: valid)
        }
        var out = [String](); out.reserveCapacity(picked.count)
        for (k, row) in picked.enumerated() { out.append(valid?[k] == false ? "" : try string(presentIndex(row))) }
        return .vector(ColumnVector(.string(out), validity: valid))
    }
}
