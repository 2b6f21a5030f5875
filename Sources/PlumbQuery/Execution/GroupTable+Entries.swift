/// Groups of a single dictionary-coded key, per dictionary entry rather than per row
/// (`AggregateState.consumeByEntry`).
extension GroupTable {
    /// The group of every entry of `dict` (slot `dict.count` stands for NULL) that occurs in the
    /// batch (`rows[slot] > 0`), -1 for the others. Entries without a group yet are numbered in
    /// the order of their first row, as `groups(_:rows:)` numbers them.
    func entryGroups(_ codes: [UInt32], _ dict: [String], valid: [Bool]?, rows: [Int64]) -> [Int32] {
        let ids = dictionaryIDs(0, dict)
        let nullKey = valid == nil ? 0 : intern(0, .null)
        growSingle()
        let nullSlot = dict.count
        @inline(__always) func key(_ slot: Int) -> UInt32 { slot == nullSlot ? nullKey : ids[slot] }
        var out = [Int32](repeating: -1, count: nullSlot + 1)
        var fresh: [Int] = []
        for slot in 0...nullSlot where rows[slot] > 0 {
            let g = single[Int(key(slot))]
            if g >= 0 { out[slot] = g } else { fresh.append(slot) }
        }
        guard !fresh.isEmpty else { return out }
        // New groups (the first batches of a query, every batch of a row group's own table):
        // their first rows give their order, so groups come out as the per-row path gives them.
        let first = Self.firstRows(codes, valid: valid, nullSlot: nullSlot)
        fresh.sort { first[$0] < first[$1] }
        var newKeys: [UInt32] = []
        var next = Int32(groupKeys.count)
        for slot in fresh {
            let id = Int(key(slot))
            if single[id] < 0 { single[id] = next; next += 1; newKeys.append(UInt32(id)) }
            out[slot] = single[id]
        }
        groupKeys.append(flat: newKeys)
        return out
    }

    /// The first row of each entry (Int.max for those that do not occur).
    static func firstRows(_ codes: [UInt32], valid: [Bool]?, nullSlot: Int) -> [Int] {
        var first = [Int](repeating: Int.max, count: nullSlot + 1)
        first.withUnsafeMutableBufferPointer { f in codes.withUnsafeBufferPointer { c in
            if let valid {
                valid.withUnsafeBufferPointer { v in
                    for r in 0..<c.count { let s = v[r] ? Int(c[r]) : nullSlot; if f[s] == Int.max { f[s] = r } }
                }
            } else {
                for r in 0..<c.count { let s = Int(c[r]); if f[s] == Int.max { f[s] = r } }
            }
        } }
        return first
    }
}
