import PlumbCore
import PlumbStore

extension QueryEngine {
    /// The keys `properties` may hold for spans with `ts_start` in [from, to): every key of the row
    /// groups that overlap the range (read from the keys alone, not the maps), so possibly a few
    /// from just outside it, and the exact keys of spans not yet in a segment.
    ///
    /// ```swift
    /// try engine.propertyKeys(from: dayStart, to: dayEnd)   // ["env", "feature", "team"]
    /// ```
    public func propertyKeys(from: Int64, to: Int64) throws -> [String] {
        if let clickhouse { return try clickhouse.propertyKeys(from: from, to: to) }
        let snapshot = try self.snapshot(from: from, to: to - 1)
        var keys = Set<String>()
        for (record, seg) in snapshot.segments where record.tsMax >= from && record.tsMin < to {
            let f = seg.footer
            guard let p = f.columnIndex("properties") else { continue }
            let ts = f.columnIndex("ts_start")
            for g in f.rowGroups.indices {
                if let ts, case .int(let lo, let hi) = f.rowGroups[g].pages[ts].zone.bounds, hi < from || lo >= to { continue }
                keys.formUnion(try seg.mapKeys(rowGroup: g, column: p))
            }
        }
        for s in snapshot.unpublished where s.tsStart >= from && s.tsStart < to { keys.formUnion(s.properties.keys) }
        return keys.sorted()
    }
}
