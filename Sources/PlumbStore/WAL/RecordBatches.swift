/// A memtable: the WAL's group-commit buffers themselves, each with the range of its records
/// that belongs here, in sequence order. Batches are handed over, never copied; a buffer cut in
/// two by a segment boundary is shared by two memtables (values share storage until written to).
///
/// ```swift
/// var m = RecordBatches()
/// m.append(committed, 0..<committed.count)
/// try m.forEach(in: 0..<m.count) { values, rows in for i in rows { try builder.add(values[i]) } }
/// ```
struct RecordBatches: Sendable {
    private(set) var batches: [(records: SpanRecords, range: Range<Int>)] = []
    private(set) var count = 0

    init() {}

    init(_ records: SpanRecords) { append(records, 0..<records.count) }

    var isEmpty: Bool { count == 0 }

    mutating func append(_ records: SpanRecords, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        batches.append((records, range))
        count += range.count
    }

    /// Visits records `range` (positions in this memtable) batch by batch, in order.
    func forEach(in range: Range<Int>, _ body: (ByteStrings.Values, Range<Int>) throws -> Void) rethrows {
        var start = 0
        for b in batches {
            let end = start + b.range.count
            let lo = max(range.lowerBound, start), hi = min(range.upperBound, end)
            if lo < hi {
                let shift = b.range.lowerBound - start
                try b.records.encoded.withValues { try body($0, lo + shift..<hi + shift) }
            }
            if end >= range.upperBound { return }
            start = end
        }
    }

    /// The buffers no later memtable shares (those whose last record is here), for reuse.
    func buffersEndingHere() -> [SpanRecords] {
        batches.filter { $0.range.upperBound == $0.records.count }.map(\.records)
    }
}
