import PlumbCore

/// Builds one row group's pages straight from WAL records (`SpanRecord`'s layout, read in place):
/// strings go from the record bytes into `ByteStrings`, numbers into arrays of present values,
/// bodies into LZ4 blocks of the row group's own. No `Span` or `String` is made on the way; the
/// builder keeps its buffers between row groups, so its memory stays warm. Row groups are built
/// side by side; only placing the bodies in the file (`bodyPages`) waits for the one before.
///
/// ```swift
/// var b = RowGroupBuilder()
/// for record in records { try b.add(record) }
/// var pages = b.dataPages()
/// b.bodies.finish()
/// pages += b.bodyPages(file: id, base: try bodyWriter.append(b.bodies))
/// try segment.add(rowGroup: pages, rows: b.rows)
/// b.reset()
/// ```
struct RowGroupBuilder: ~Copyable {
    private(set) var rows = 0
    // In `SegmentSchema.columns` order; `dataPages()` lists them so.
    private var spanID = Strings(), traceID = Strings(), parent = Strings(), session = Interned(), user = Interned()
    private var tsStart = Ints(), tsEnd = Ints(), latency = Doubles(), ttft = Doubles(), upstream = Doubles()
    private var provider = Interned(), modelReq = Interned(), model = Interned(), op = Interned(), endpoint = Interned()
    private var method = Interned(), stream = ColumnBuffer<Bool>(), status = Ints(), errType = Interned(), finish = Interned()
    private var input = Ints(), output = Ints(), cacheRead = Ints(), cacheWrite = Ints(), reasoning = Ints()
    private var cost = Doubles(), reqBytes = Ints(), respBytes = Ints()
    private var keyHash = Interned()
    private var propCounts = ColumnBuffer<Int64>(), propKeys = Interned(), propValues = Interned()
    private var bodyBlock = Ints(), bodyOffset = Ints(), bodyReq = Ints(), bodyResp = Ints()
    /// This row group's bodies; the body columns hold offsets relative to them.
    var bodies = BodyFile.Blocks()
    /// The span ids' filter hashes, for `idFilter()`.
    private var idHashes: [UInt64] = []
    private var entries: [(key: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>)] = []

    mutating func reset() {
        idHashes.removeAll(keepingCapacity: true)
        rows = 0
        spanID.reset(); traceID.reset(); parent.reset(); session.reset(); user.reset()
        tsStart.reset(); tsEnd.reset(); latency.reset(); ttft.reset(); upstream.reset()
        provider.reset(); modelReq.reset(); model.reset(); op.reset(); endpoint.reset()
        method.reset(); stream.removeAll(); status.reset(); errType.reset(); finish.reset()
        input.reset(); output.reset(); cacheRead.reset(); cacheWrite.reset(); reasoning.reset()
        cost.reset(); reqBytes.reset(); respBytes.reset(); keyHash.reset()
        propCounts.removeAll(); propKeys.reset(); propValues.reset()
        bodyBlock.reset(); bodyOffset.reset(); bodyReq.reset(); bodyResp.reset()
        bodies.removeAll()
    }

    /// Adds records `rows` of `records`.
    mutating func add(_ records: ByteStrings.Values, rows range: Range<Int>) throws {
        for i in range { try add(records[i]) }
    }

    /// Adds one record; its bodies (if any) go to `bodies`.
    mutating func add(_ record: UnsafeBufferPointer<UInt8>) throws {
        var r = RecordReader(record)
        let mask = try r.varint()
        @inline(__always) func has(_ bit: Int) -> Bool { mask & (1 << UInt64(bit)) != 0 }
        let id = try r.bytes()
        idHashes.append(SplitBlockBloomFilter.hash(id))
        spanID.add(id)
        try traceID.add(has(0) ? r.bytes() : nil); try parent.add(has(1) ? r.bytes() : nil)
        try session.add(has(2) ? r.bytes() : nil); try user.add(has(3) ? r.bytes() : nil)
        let ts = try r.svarint()
        tsStart.add(ts); tsEnd.add(ts &+ (try r.svarint()))
        latency.add(try r.f64()); try ttft.add(has(4) ? r.f64() : nil); upstream.add(try r.f64())
        provider.add(try r.bytes())
        try modelReq.add(has(5) ? r.bytes() : nil); try model.add(has(6) ? r.bytes() : nil)
        op.add(try r.bytes()); endpoint.add(try r.bytes()); method.add(try r.bytes())
        status.add(try r.svarint())
        try errType.add(has(7) ? r.bytes() : nil); try finish.add(has(8) ? r.bytes() : nil)
        try input.add(has(9) ? r.svarint() : nil); try output.add(has(10) ? r.svarint() : nil)
        try cacheRead.add(has(11) ? r.svarint() : nil); try cacheWrite.add(has(12) ? r.svarint() : nil)
        try reasoning.add(has(13) ? r.svarint() : nil)
        try cost.add(has(14) ? r.f64() : nil)
        reqBytes.add(try r.svarint()); respBytes.add(try r.svarint())
        try keyHash.add(has(15) ? r.bytes() : nil)
        try addProperties(&r)
        let request = has(16) ? try r.bytes() : nil, response = has(17) ? try r.bytes() : nil
        stream.append(has(18))
        guard r.atEnd else { throw FormatError("stray bytes after a span record") }
        if request != nil || response != nil {
            let at = bodies.add(request: request, response: response)
            bodyBlock.add(at.block); bodyOffset.add(at.offset)
            bodyReq.add(request.map { Int64($0.count) }); bodyResp.add(response.map { Int64($0.count) })
        } else {
            bodyBlock.add(nil); bodyOffset.add(nil); bodyReq.add(nil); bodyResp.add(nil)
        }
        rows += 1
    }

    /// A map's entries are stored sorted by key bytes (records keep a dictionary's order).
    private mutating func addProperties(_ r: inout RecordReader) throws {
        let n = Int(try r.varint())
        guard n <= r.remaining / 2 else { throw FormatError("implausible property count \(n) in a span record") }
        if n == 1 {
            propKeys.add(try r.bytes()); propValues.add(try r.bytes())
        } else if n > 1 {
            entries.removeAll(keepingCapacity: true)
            for _ in 0..<n { entries.append((try r.bytes(), try r.bytes())) }
            entries.sort { ByteStrings.Values.less($0.key, $1.key) }
            for e in entries { propKeys.add(e.key); propValues.add(e.value) }
        }
        propCounts.append(Int64(n))
    }

    /// The split-block Bloom filter of the span ids added.
    func idFilter() -> SplitBlockBloomFilter {
        var f = SplitBlockBloomFilter(keys: idHashes.count)
        for h in idHashes { f.insert(h) }
        return f
    }

    /// The pages of every `SegmentSchema` column before the body references.
    func dataPages() -> [SegmentWriter.Page] {
        var out: [SegmentWriter.Page] = []
        out.reserveCapacity(SegmentSchema.columns.count)
        out += [spanID.page(rows), traceID.page(rows), parent.page(rows), session.page(rows), user.page(rows)]
        out += [tsStart.page(rows), tsEnd.page(rows), latency.page(rows), ttft.page(rows), upstream.page(rows)]
        out += [provider.page(rows), modelReq.page(rows), model.page(rows), op.page(rows), endpoint.page(rows), method.page(rows)]
        out.append(PageCodec.encode(.bool(stream.array), validity: nil, rows: rows))
        out += [status.page(rows), errType.page(rows), finish.page(rows)]
        out += [input.page(rows), output.page(rows), cacheRead.page(rows), cacheWrite.page(rows), reasoning.page(rows)]
        out += [cost.page(rows), reqBytes.page(rows), respBytes.page(rows), keyHash.page(rows)]
        out.append(PageCodec.encode(rows: rows, present: rows, validity: nil) { w in
            IntCodec.encode(propCounts.buffer, into: &w)
            _ = propKeys.encode(into: &w)
            _ = propValues.encode(into: &w)
            return .none
        })
        return out
    }

    /// The body reference columns' pages, once `bodies` (finished) are in body file `file` at `base`.
    func bodyPages(file: Int64, base: Int64) -> [SegmentWriter.Page] {
        let present = bodyBlock.values.buffer, validity = bodyBlock.validityArray
        let rows = rows
        func page(_ v: [Int64]) -> SegmentWriter.Page { PageCodec.encode(.int(v), validity: validity, rows: rows) }
        return [page([Int64](repeating: file, count: present.count)), page(present.map { $0 + base }),
                bodyOffset.page(rows), bodyReq.page(rows), bodyResp.page(rows)]
    }

    // MARK: Column builders: present values and, per row, whether the value is there.

    struct Strings: ~Copyable {
        var bytes = ColumnBuffer<UInt8>(capacity: 1 << 16), ends = ColumnBuffer<Int>(), validity = ColumnBuffer<Bool>()
        @inline(__always) mutating func add(_ b: UnsafeBufferPointer<UInt8>?) {
            if let b { bytes.append(bytes: b); ends.append(bytes.count) }
            validity.append(b != nil)
        }
        mutating func reset() { bytes.removeAll(); ends.removeAll(); validity.removeAll() }
        func page(_ rows: Int) -> SegmentWriter.Page {
            let strings = ByteStrings(bytes: bytes.array, ends: ends.array)
            return PageCodec.encode(.strings(strings), validity: ends.count < rows ? validity.array : nil, rows: rows)
        }
    }

    /// A string column kept as codes into a dictionary that lives as long as the builder: a value
    /// seen before costs a hash probe, and its bytes are not copied. Encoded exactly as `Strings`.
    struct Interned: ~Copyable {
        var dictionary = StringInterner(expected: 8), codes = ColumnBuffer<UInt32>(), validity = ColumnBuffer<Bool>()
        /// Past this many entries the column is not low-cardinality: start each row group afresh.
        static let keepLimit = 1 << 14

        @inline(__always) mutating func add(_ b: UnsafeBufferPointer<UInt8>?) {
            if let b { codes.append(UInt32(truncatingIfNeeded: dictionary.code(bytes: b))) }
            validity.append(b != nil)
        }
        mutating func reset() {
            codes.removeAll(); validity.removeAll()
            if dictionary.count > Self.keepLimit { dictionary.removeAll() }
        }
        func encode(into w: inout ByteWriter) -> ZoneBounds {
            StringCodec.encode(codes: codes.buffer, dictionary: dictionary, into: &w)
        }
        func page(_ rows: Int) -> SegmentWriter.Page {
            PageCodec.encode(rows: rows, present: codes.count, validity: codes.count < rows ? validity.array : nil) { encode(into: &$0) }
        }
    }

    /// Present values of a number column and, per row, whether the value is there.
    struct Present<T: BitwiseCopyable>: ~Copyable {
        var values = ColumnBuffer<T>(), validity = ColumnBuffer<Bool>()
        @inline(__always) mutating func add(_ v: T?) {
            if let v { values.append(v) }
            validity.append(v != nil)
        }
        mutating func reset() { values.removeAll(); validity.removeAll() }
        /// Which rows hold a value, or nil when all do (pages then carry no bitmap).
        var validityArray: [Bool]? { values.count < validity.count ? validity.array : nil }
    }
    typealias Ints = Present<Int64>
    typealias Doubles = Present<Double>
}

extension RowGroupBuilder.Present<Int64> {
    func page(_ rows: Int) -> SegmentWriter.Page { PageCodec.encode(.int(values.array), validity: validityArray, rows: rows) }
}

extension RowGroupBuilder.Present<Double> {
    func page(_ rows: Int) -> SegmentWriter.Page { PageCodec.encode(.double(values.array), validity: validityArray, rows: rows) }
}

/// Reads a record in place: a bounds-checked cursor over its bytes.
struct RecordReader {
    private let b: UnsafeBufferPointer<UInt8>
    private var pos = 0

    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    var remaining: Int { b.count - pos }
    var atEnd: Bool { pos == b.count }

    private static let truncated = FormatError("truncated span record")

    @inline(__always) mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while pos < b.count {
            let x = b[pos]; pos &+= 1
            v |= UInt64(x & 0x7F) << shift
            if x & 0x80 == 0 { return v }
            shift += 7
            if shift > 63 { throw FormatError("varint overflows 64 bits in a span record") }
        }
        throw Self.truncated
    }

    @inline(__always) mutating func svarint() throws -> Int64 {
        let u = try varint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    @inline(__always) mutating func f64() throws -> Double {
        guard remaining >= 8 else { throw Self.truncated }
        defer { pos &+= 8 }
        return Double(bitPattern: UInt64(littleEndian: UnsafeRawBufferPointer(b).loadUnaligned(fromByteOffset: pos, as: UInt64.self)))
    }

    /// A length-prefixed string's bytes.
    @inline(__always) mutating func bytes() throws -> UnsafeBufferPointer<UInt8> {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw Self.truncated }
        defer { pos &+= Int(n) }
        return UnsafeBufferPointer(rebasing: b[pos..<pos &+ Int(n)])
    }
}
