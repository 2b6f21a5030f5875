import PlumbCore

/// Spans encoded as WAL records (`SpanRecord`) back to back: the writing store's queue and
/// memtable. A span is encoded once, by its producer; the WAL writes these bytes and the
/// publisher reads them straight into columns (`RowGroupBuilder`), so no `Span` is copied or
/// kept on the way.
///
/// ```swift
/// var records = SpanRecords()
/// records.append(span)
/// try wal.append(records, 0..<records.count, firstSeq: 1)
/// ```
public struct SpanRecords: Sendable {
    public private(set) var encoded = ByteStrings()

    public init() {}

    public init(_ spans: some Sequence<Span>) {
        for s in spans { append(s) }
    }

    public var count: Int { encoded.count }
    public var isEmpty: Bool { encoded.count == 0 }

    @inline(__always) public mutating func append(_ span: Span) {
        encoded.append { SpanRecord.encode(span, into: &$0) }
    }

    mutating func reserve(bytes: Int, records: Int) { encoded.reserve(bytes: bytes, values: records) }

    /// Appends one record already encoded (`SpanLineDecoder`).
    @inline(__always) mutating func append(encodedRecord: UnsafeBufferPointer<UInt8>) {
        encoded.append(encodedRecord)
    }

    /// Appends records `range` of `other` (bytes copied as they are).
    public mutating func append(_ other: SpanRecords, _ range: Range<Int>) {
        encoded.append(other.encoded, range)
    }

    public mutating func removeAll() { encoded.removeAll() }

    // MARK: Blocks

    /// The store queues and holds records in blocks of at most this many spans (one WAL group
    /// commit, one row group) ...
    public static let blockRows = 65_536
    /// ... or about this many bytes: small enough for malloc's heap (blocks under its 32 MiB mmap
    /// threshold are reused warm, not unmapped and faulted in afresh), large enough for bodies.
    public static let blockBytes = 16 << 20

    /// An empty block with room reserved for a full one, so filling it never copies it.
    public static func block(rows: Int = blockRows, bytes: Int = blockBytes) -> SpanRecords {
        var b = SpanRecords()
        b.encoded.reserve(bytes: room(bytes), values: rows)
        return b
    }

    /// Bytes reserved for a block of `bytes`: a full one and the record that filled it.
    public static func room(_ bytes: Int) -> Int { bytes + (1 << 20) }

    /// Bytes the block has reserved (what it holds in memory, near enough).
    public var reservedBytes: Int { encoded.bytes.capacity }

    /// Whether a block has reached its size (`rows` spans, or `blockBytes`) and a new one should start.
    @inline(__always) public func isFullBlock(rows: Int, bytes: Int = blockBytes) -> Bool {
        encoded.count >= rows || encoded.byteCount >= bytes
    }
}
