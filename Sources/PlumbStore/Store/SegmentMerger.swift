import PlumbCore

/// Merges segments into one, ordered by ts_start, a row group at a time: what compaction and
/// retention rewrite. Only the ts_start columns are read whole; every other column is decoded one
/// input row group at a time and dropped once the merge has passed it, so the memory a rewrite
/// takes is about a row group per input whose time range overlaps the others', never the sum of
/// the inputs (a 2-million-row compaction used to hold every column of every input at once, twice).
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
    /// The most rows held decoded at once, over all inputs (what the bound is about; tests read it).
    private(set) var peakDecodedRows = 0
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
            let columns = SegmentSchema.columns.indices.map { c in ColumnVector.concatenate(pieces.map { $0.column(c) }) }
            try writer.add(rowGroup: Self.encode(columns), rows: pending, idFilter: SplitBlockBloomFilter(spanIDs: columns[Self.spanIDColumn]))
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
            let piece: MergePiece
            do {
                piece = try sources[s].take(upTo: room, while: ahead)
            } catch let e as SegmentError { throw InputError(input: s, error: e) }
            pending += piece.count
            pieces.append(piece)
            peakDecodedRows = max(peakDecodedRows, sources.reduce(0) { $0 + $1.decodedRows })
            if sources[s].remaining > 0 { heap.push(s) }
            if pending == rowGroupSize || heap.isEmpty { try writePending() }
        }
        if pending > 0 { try writePending() }
        return try writer.finish()
    }

    static let spanIDColumn = SegmentSchema.index(of: "span_id")!

    /// One output row group's pages.
    private static func encode(_ columns: [ColumnVector]) -> [SegmentWriter.Page] {
        columns.enumerated().map { c, column in PageCodec.encodeWithZone(column, type: SegmentSchema.columns[c].type) }
    }
}

/// Rows of one input row group that go next into the output, in order.
struct MergePiece {
    let columns: [ColumnVector]
    let rows: MergeRows

    var count: Int {
        switch rows {
        case .range(let r): r.count
        case .list(let l): l.count
        }
    }

    func column(_ c: Int) -> ColumnVector {
        switch rows {
        case .range(let r): columns[c].slice(r)
        case .list(let l): columns[c].gather(l)
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
    /// The decoded row group under the cursor (sorted inputs), or every column (others).
    private var decoded: (group: Int, columns: [ColumnVector])?
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

    /// Rows of the columns held decoded now.
    var decodedRows: Int { decoded?.columns.first?.count ?? 0 }

    private func fileRow(_ position: Int) -> Int { order?[position] ?? position }

    var currentTs: Int64 { ts[fileRow(next)] }

    /// The next rows while `ahead(ts)` holds (at least one), at most `limit`, within one row group.
    func take(upTo limit: Int, while ahead: (Int64) -> Bool) throws -> MergePiece {
        let first = fileRow(next)
        let group = whole ? 0 : groupOf(first)
        let columns = try columns(for: group)
        let base = whole ? 0 : groupStart[group]
        let groupEnd = whole ? Int.max : groupStart[group + 1]
        var rows: [Int] = [], end = next
        repeat {
            let r = fileRow(end)
            if r >= groupEnd { break }
            if order != nil { rows.append(r - base) }
            end += 1
        } while end < total && end - next < limit && ahead(ts[fileRow(end)])
        defer {
            next = end
            // Past its row group (or the input's end): let it go once the output has used it.
            if next == total || (!whole && fileRow(next) >= groupEnd) { decoded = nil }
        }
        if order == nil { return MergePiece(columns: columns, rows: .range((first - base)..<(first - base + end - next))) }
        return MergePiece(columns: columns, rows: .list(rows))
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
        decoded = nil
        return (pages, info.rowCount, filter)
    }

    private func groupOf(_ row: Int) -> Int {
        // Row groups are visited in order: the cursor's group or a later one.
        var g = decoded.map { $0.group } ?? 0
        while groupStart[g + 1] <= row { g += 1 }
        return g
    }

    private func columns(for group: Int) throws -> [ColumnVector] {
        if let decoded, decoded.group == group { return decoded.columns }
        decoded = nil      // dropped before the next is read
        let columns: [ColumnVector]
        if whole {
            columns = try columnIndex.map { c in
                try ColumnVector.concatenate(reader.footer.rowGroups.indices.map { try reader.readUncached(rowGroup: $0, column: c) })
            }
        } else {
            columns = try columnIndex.map { try reader.readUncached(rowGroup: group, column: $0) }
        }
        decoded = (group, columns)
        return columns
    }
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
