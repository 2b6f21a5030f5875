import PlumbCore

/// Merges segments into one, ordered by ts_start, a row group at a time: what compaction and
/// retention rewrite. Only the ts_start columns are read whole. The merge order comes from them
/// alone; then each output row group is written a column at a time, each input decoding just
/// that column of its row group, so a rewrite holds about one column of a row group per input
/// whose time range overlaps the others', never the inputs (a 2-million-row compaction once held
/// every column of every input, twice; then every column of a row group per input, ~50 MB each
/// at 65,536 rows).
///
/// ```swift
/// let merger = try SegmentMerger(readers, keep: { $0 >= cutoff })
/// let written = try merger.write(to: tmpPath, rowGroupSize: 65_536)   // nil: no row kept
/// ```
/// Ties keep the inputs' order, then each input's row order: the result is the stable sort of
/// the inputs joined end to end, as it always was.
struct SegmentMerger {
    /// A failure while reading one input, naming which (to set it aside).
    struct InputError: Error {
        let input: Int
        let error: SegmentError
    }

    private var sources: [MergeSource]
    /// The most values held decoded at once, over all inputs (what the bound is about; tests read it).
    private(set) var peakDecodedValues = 0
    /// Row groups copied as they were (`MergeSource.wholeGroup`).
    private(set) var copiedRowGroups = 0

    init(_ readers: [SegmentReader], keep: ((Int64) -> Bool)? = nil) throws {
        sources = []
        for (i, r) in readers.enumerated() {
            do { sources.append(try MergeSource(r, keep: keep)) } catch let e as SegmentError { throw InputError(input: i, error: e) }
        }
    }

    /// Rows the result will hold.
    var rows: Int { sources.reduce(0) { $0 + $1.remaining } }

    /// Writes the merged rows to a new segment file at `path`; nil (and no file) when no row is kept.
    mutating func write(to path: String, rowGroupSize: Int) throws -> SegmentWriter.Written? {
        guard rows > 0 else { return nil }
        let writer = try SegmentWriter(path: path)
        var heap = MergeHeap(sources.indices.filter { sources[$0].remaining > 0 }) { [sources] a, b in
            let ta = sources[a].currentTs, tb = sources[b].currentTs
            return ta < tb || (ta == tb && a < b)
        }
        var pieces: [MergePiece] = []
        var pending = 0
        func writePending() throws {
            // A column at a time, encoded and let go: the whole row group joined at once was a
            // second copy of every piece (~25 MB of strings and integers at the peak of a
            // compaction beside a full-rate proxy, under heaptrack).
            var pages: [SegmentWriter.Page] = []
            pages.reserveCapacity(SegmentSchema.columns.count)
            var idFilter: SplitBlockBloomFilter? = nil
            for c in SegmentSchema.columns.indices {
                let parts = try pieces.map { p in
                    do { return try p.column(c) } catch let e as SegmentError { throw InputError(input: p.input, error: e) }
                }
                peakDecodedValues = max(peakDecodedValues, sources.reduce(0) { $0 + $1.decodedValues })
                let column = ColumnVector.concatenate(parts)
                if c == Self.spanIDColumn { idFilter = SplitBlockBloomFilter(spanIDs: column) }
                pages.append(PageCodec.encodeWithZone(column, type: SegmentSchema.columns[c].type))
            }
            for s in sources { s.release() }
            try writer.add(rowGroup: pages, rows: pending, idFilter: idFilter)
            pieces.removeAll(); pending = 0
        }
        while let s = heap.popMin() {
            // Take from `s` while it stays ahead of the next input (a run), up to the row group's room.
            let bound = heap.min.map { (ts: sources[$0].currentTs, input: $0) }
            let ahead = { (ts: Int64) -> Bool in
                guard let bound else { return true }
                return ts < bound.ts || (ts == bound.ts && s < bound.input)
            }
            // A whole input row group that goes out as it is (the inputs do not overlap there)
            // is copied page for page: nothing decoded, nothing encoded.
            if let group = sources[s].wholeGroup(minRows: rowGroupSize / 2, ahead: ahead) {
                if pending > 0 { try writePending() }
                do {
                    let copy = try sources[s].copy(group: group)
                    try writer.add(rowGroup: copy.pages, rows: copy.rows, idFilterBytes: copy.idFilter)
                } catch let e as SegmentError { throw InputError(input: s, error: e) }
                copiedRowGroups += 1
                if sources[s].remaining > 0 { heap.push(s) }
                continue
            }
            let room = rowGroupSize - pending
            let piece = sources[s].take(upTo: room, input: s, while: ahead)
            pending += piece.count
            pieces.append(piece)
            if sources[s].remaining > 0 { heap.push(s) }
            if pending == rowGroupSize || heap.isEmpty { try writePending() }
        }
        if pending > 0 { try writePending() }
        return try writer.finish()
    }

    static let spanIDColumn = SegmentSchema.index(of: "span_id")!

    /// One output row group's pages.
}

/// Rows of one input row group that go next into the output, in order; their columns are
/// decoded when the output asks for them, one at a time.
struct MergePiece {
    let source: MergeSource
    /// The input's index in the merge (to name it in an error).
    let input: Int
    /// The input's row group (0 for an input read whole).
    let group: Int
    let rows: MergeRows

    var count: Int {
        switch rows {
        case .range(let r): r.count
        case .list(let l): l.count
        }
    }

    /// Column `c` (the schema's index) of these rows.
    func column(_ c: Int) throws -> ColumnVector {
        let values = try source.column(c, group: group)
        switch rows {
        case .range(let r): return values.slice(r)
        case .list(let l): return values.gather(l)
        }
    }
}

enum MergeRows {
    case range(Range<Int>)
    case list([Int])
}

/// One input of a merge: its rows in ts_start order. A segment already in order (every
/// compaction output, and most level-0 segments) is read a row group at a time; one out of order
/// (a level-0 segment of spans that arrived out of order, at most a memtable's worth) is read whole
/// and visited through its sort order.
final class MergeSource {
    private let reader: SegmentReader
    private let columnIndex: [Int]
    /// ts_start of every row, in file order.
    private let ts: [Int64]
    /// The rows to emit, in order (nil: every row, in file order).
    private var order: [Int]?
    /// Position in `order` (or the file row when `order` is nil).
    private var next = 0
    private let total: Int
    /// First file row of each row group, and one past the last.
    private let groupStart: [Int]
    /// The row group under the cursor.
    private var cursorGroup = 0
    /// The one column held decoded (of a row group, or of the whole input when it is read whole).
    private var held: (column: Int, group: Int, values: ColumnVector)?
    private let whole: Bool
    /// The file's columns are the schema's, in its order (then its pages can be copied as they are).
    private let sameLayout: Bool

    init(_ reader: SegmentReader, keep: ((Int64) -> Bool)?) throws {
        self.reader = reader
        columnIndex = try SegmentSchema.columns.map { want in
            guard let c = reader.footer.columnIndex(want.name) else { throw SegmentError(path: reader.path, reason: "missing column \(want.name)") }
            return c
        }
        var starts = [0]
        for g in reader.footer.rowGroups { starts.append(starts.last! + g.rowCount) }
        groupStart = starts
        let tsc = columnIndex[SegmentSchema.index(of: "ts_start")!]
        var all: [Int64] = []
        all.reserveCapacity(reader.rowCount)
        for g in reader.footer.rowGroups.indices {
            guard case .int(let part) = try reader.readUncached(rowGroup: g, column: tsc).values else {
                throw SegmentError(path: reader.path, reason: "ts_start is not an integer column")
            }
            all.append(contentsOf: part)
        }
        ts = all
        let sorted = zip(all, all.dropFirst()).allSatisfy { $0 <= $1 }
        whole = !sorted
        if !sorted {
            order = all.indices.sorted { all[$0] < all[$1] || (all[$0] == all[$1] && $0 < $1) }
        }
        if let keep, !all.allSatisfy(keep) {
            order = (order ?? Array(all.indices)).filter { keep(all[$0]) }
        }
        sameLayout = columnIndex == Array(columnIndex.indices) && reader.footer.columns == SegmentSchema.columns
        total = order?.count ?? all.count
    }

    var remaining: Int { total - next }

    /// Values held decoded now.
    var decodedValues: Int { held?.values.count ?? 0 }

    private func fileRow(_ position: Int) -> Int { order?[position] ?? position }

    var currentTs: Int64 { ts[fileRow(next)] }

    /// The next rows while `ahead(ts)` holds (at least one), at most `limit`, within one row group.
    func take(upTo limit: Int, input: Int, while ahead: (Int64) -> Bool) -> MergePiece {
        let first = fileRow(next)
        let group = whole ? 0 : groupOf(first)
        cursorGroup = group
        let base = whole ? 0 : groupStart[group]
        let groupEnd = whole ? Int.max : groupStart[group + 1]
        var rows: [Int] = [], end = next
        repeat {
            let r = fileRow(end)
            if r >= groupEnd { break }
            if order != nil { rows.append(r - base) }
            end += 1
        } while end < total && end - next < limit && ahead(ts[fileRow(end)])
        defer { next = end }
        if order == nil {
            return MergePiece(source: self, input: input, group: group, rows: .range((first - base)..<(first - base + end - next)))
        }
        return MergePiece(source: self, input: input, group: group, rows: .list(rows))
    }

    /// The row group under the cursor when all of it goes out next, as it is: the input is in
    /// order with every row kept, the cursor is at the group's first row, its last row is still
    /// `ahead`, it has a span-id filter and at least `minRows` rows (smaller ones are merged into
    /// fuller groups instead).
    func wholeGroup(minRows: Int, ahead: (Int64) -> Bool) -> Int? {
        guard order == nil, !whole, sameLayout, next < total else { return nil }
        let group = groupOf(next)
        let info = reader.footer.rowGroups[group]
        guard groupStart[group] == next, info.rowCount >= minRows, info.idFilter != nil,
              ahead(ts[groupStart[group + 1] - 1]) else { return nil }
        return group
    }

    /// The group's pages and filter as the file holds them (checksums checked), and the cursor
    /// moved past it.
    func copy(group: Int) throws -> (pages: [SegmentWriter.Page], rows: Int, idFilter: [UInt8]) {
        let info = reader.footer.rowGroups[group]
        let pages = try info.pages.indices.map { c in (page: try reader.page(rowGroup: group, column: c, fromFile: true), zone: info.pages[c].zone) }
        let filter = try reader.filterBytes(rowGroup: group, fromFile: true)
        next = groupStart[group + 1]
        cursorGroup = group
        return (pages, info.rowCount, filter)
    }

    private func groupOf(_ row: Int) -> Int {
        // Row groups are visited in order: the cursor's group or a later one.
        var g = cursorGroup
        while groupStart[g + 1] <= row { g += 1 }
        return g
    }

    /// Column `c` (the schema's index) of row group `group`, decoded once while the output's
    /// pieces of it ask in turn (they come in group order, so one held column is enough).
    func column(_ c: Int, group: Int) throws -> ColumnVector {
        if let held, held.column == c, held.group == group { return held.values }
        held = nil      // dropped before the next is read
        let file = columnIndex[c]
        let values = whole
            ? try ColumnVector.concatenate(reader.footer.rowGroups.indices.map { try reader.readUncached(rowGroup: $0, column: file) })
            : try reader.readUncached(rowGroup: group, column: file)
        held = (c, group, values)
        return values
    }

    /// Lets the held column go (a row group of the output is written).
    func release() { held = nil }
}

/// A binary min-heap of input indices, ordered by `less` (which reads each input's current row).
struct MergeHeap {
    private var items: [Int]
    private let less: (Int, Int) -> Bool

    init(_ items: [Int], less: @escaping (Int, Int) -> Bool) {
        self.items = []
        self.less = less
        for i in items { insert(i) }
    }

    var isEmpty: Bool { items.isEmpty }
    var min: Int? { items.first }

    mutating func push(_ i: Int) { insert(i) }

    private mutating func insert(_ i: Int) {
        items.append(i)
        var c = items.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            guard less(items[c], items[p]) else { break }
            items.swapAt(c, p); c = p
        }
    }

    mutating func popMin() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var p = 0
            while true {
                let l = 2 * p + 1, r = l + 1
                var m = p
                if l < items.count && less(items[l], items[m]) { m = l }
                if r < items.count && less(items[r], items[m]) { m = r }
                if m == p { break }
                items.swapAt(p, m); p = m
            }
        }
        return top
    }
}
