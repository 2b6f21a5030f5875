import PlumbStore

extension StoreScan {
    /// For `ORDER BY column [DESC] LIMIT k`: row groups in order of their zone maps' best value of
    /// `column` (the spans not yet in a segment first), and none read once `bound()` (the k-th best
    /// value kept so far) is better than everything a row group holds; so the newest spans of
    /// a long range cost a few row groups, not the range.
    func scanTopK(column: String, descending: Bool, bound: () -> Double?, _ visit: (Batch) throws -> Bool) throws {
        guard try scanUnpublished(visit) else { return }
        var items: [(item: Item, best: Double?)] = []
        for p in plan() {
            let c = p.segment.footer.columnIndex(column)
            for g in p.rowGroups {
                var best: Double? = nil
                if let c {
                    switch p.segment.footer.rowGroups[g].pages[c].zone.bounds {
                    case .int(let lo, let hi): best = Double(descending ? hi : lo)
                    case .double(let lo, let hi): best = descending ? hi : lo
                    default: break
                    }
                }
                items.append((Item(segment: p.segment, tsMin: p.tsMin, group: g, hash: p.hash), best))
            }
        }
        // Row groups without bounds first (they cannot be ruled out), then best first.
        items.sort { a, b in
            guard let x = a.best else { return b.best != nil }
            guard let y = b.best else { return false }
            return descending ? x > y : x < y
        }
        for (item, best) in items {
            if let best, let t = bound(), descending ? best < t : best > t { break }
            try deadline?.check()
            stats.rowsRead += item.segment.footer.rowGroups[item.group].rowCount
            if let batch = try load(item), try !visit(batch) { return }
        }
    }
}
