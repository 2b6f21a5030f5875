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

    /// Appends records `range` of `other` (bytes copied as they are).
    public mutating func append(_ other: SpanRecords, _ range: Range<Int>) {
        encoded.append(other.encoded, range)
    }

    public mutating func removeAll() { encoded.removeAll() }
}
