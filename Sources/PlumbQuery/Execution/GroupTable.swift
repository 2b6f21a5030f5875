/// Numbers the distinct GROUP BY keys as rows arrive. Each key column is interned on its own
/// (a dictionary-coded column once per dictionary entry, not per row), then the per-column
/// numbers are combined: with one or two keys into a single integer, beyond that as a tuple.
final class GroupTable {
    /// The distinct values of each key column, by number.
    private(set) var keyValues: [[Value]]
    private var interned: [[Value: UInt32]]
    private var intInterned: [[Int64: UInt32]]
    private var stringInterned: [[String: UInt32]]
    private var lastDictionary: [Int: ([String], [UInt32])] = [:]
    /// Columns whose `stringInterned` is not built yet (see `mergeOnly`).
    private var unindexed: Set<Int> = []
    /// A row group's own table, only ever merged into another by value (`AggregateState.merge`),
    /// never finished: its first dictionary is taken as it is, entries numbered by position
    /// without hashing them (an entry repeated in a dictionary gets two numbers; the merge
    /// joins them).
    var mergeOnly = false
    private var nullID: [UInt32?]
    /// One key: group of each key number. Two keys: a dense grid over both key numbers while it
    /// stays small, else `pairs`. More: `tuples`.
    var single: [Int32] = []
    private var grid: [Int32] = []
    private var gridShift = 0          // grid index = id0 << gridShift | id1
    private var gridRows = 0
    private var pairs: [UInt64: Int32] = [:]
    private var tuples: [[UInt32]: Int32] = [:]
    /// Three keys, each number under 2^21: packed into one integer (e.g. provider, model, minute).
    private var triples: [UInt64: Int32] = [:]
    private var triplesOverflowed = false
    /// For each group, the per-column numbers of its key.
    var groupKeys: GroupKeys
    let keyTypes: [SQLType]

    init(keyTypes: [SQLType]) {
        self.keyTypes = keyTypes
        keyValues = Array(repeating: [], count: keyTypes.count)
        interned = Array(repeating: [:], count: keyTypes.count)
        intInterned = Array(repeating: [:], count: keyTypes.count)
        stringInterned = Array(repeating: [:], count: keyTypes.count)
        nullID = Array(repeating: nil, count: keyTypes.count)
        groupKeys = GroupKeys(width: keyTypes.count)
    }

    var count: Int { keyTypes.isEmpty ? 1 : groupKeys.count }

    /// An independent copy (arrays are shared until one side changes them).
    func copy() -> GroupTable {
        let t = GroupTable(keyTypes: keyTypes)
        t.keyValues = keyValues; t.interned = interned; t.intInterned = intInterned; t.stringInterned = stringInterned
        t.lastDictionary = lastDictionary; t.nullID = nullID; t.single = single; t.grid = grid; t.gridShift = gridShift
        t.gridRows = gridRows; t.pairs = pairs; t.tuples = tuples; t.triples = triples; t.triplesOverflowed = triplesOverflowed
        t.groupKeys = groupKeys; t.unindexed = unindexed; t.mergeOnly = mergeOnly
        return t
    }

    /// The number of value `v` in key column `column`. Strings and integers have their own
    /// tables (the fast paths below use them directly), so a value gets one number whichever
    /// path sees it.
    func intern(_ column: Int, _ v: Value) -> UInt32 {
        switch v {
        case .string(let s):
            index(column)
            if let id = stringInterned[column][s] { return id }
            let id = UInt32(keyValues[column].count)
            keyValues[column].append(v)
            stringInterned[column][s] = id
            return id
        case .int(let i), .timestamp(let i):
            if let id = intInterned[column][i] { return id }
            let id = UInt32(keyValues[column].count)
            keyValues[column].append(v)
            intInterned[column][i] = id
            return id
        default:
            if let id = interned[column][v] { return id }
            let id = UInt32(keyValues[column].count)
            keyValues[column].append(v)
            interned[column][v] = id
            return id
        }
    }

    /// Builds the string index of a column whose numbers were taken from a dictionary as it was.
    private func index(_ column: Int) {
        guard unindexed.remove(column) != nil else { return }
        for (id, v) in keyValues[column].enumerated() {
            if case .string(let s) = v, stringInterned[column][s] == nil { stringInterned[column][s] = UInt32(id) }
        }
    }

    /// The key numbers of a dictionary's entries. Consecutive row groups carry much the same
    /// sorted dictionary (most users in each): the entries are matched against the previous
    /// dictionary by walking both in order, comparing strings, and only entries not in it are
    /// looked up by hash (an unsorted dictionary just finds fewer matches).
    func dictionaryIDs(_ column: Int, _ dict: [String]) -> [UInt32] {
        if mergeOnly && keyValues[column].isEmpty && lastDictionary[column] == nil {
            keyValues[column] = dict.map { .string($0) }
            let ids = (0..<UInt32(dict.count)).map { $0 }
            lastDictionary[column] = (dict, ids)
            unindexed.insert(column)
            return ids
        }
        index(column)
        let (prev, prevIDs) = lastDictionary[column] ?? ([], [])
        // Work on locals (moved out of the class): no exclusivity check per entry.
        var table = stringInterned[column], values = keyValues[column]
        stringInterned[column] = [:]; keyValues[column] = []
        var j = 0
        let ids = dict.map { s -> UInt32 in
            // Row groups' dictionaries are mostly the same entries: equality first (for short
            // strings a compare of two words, inlined), ordering only where they differ.
            if j < prev.count && prev[j] == s { j += 1; return prevIDs[j - 1] }
            while j < prev.count && prev[j] < s { j += 1 }
            if j < prev.count && prev[j] == s { j += 1; return prevIDs[j - 1] }
            if let id = table[s] { return id }
            let id = UInt32(values.count)
            values.append(.string(s))
            table[s] = id
            return id
        }
        stringInterned[column] = table; keyValues[column] = values
        lastDictionary[column] = (dict, ids)
        return ids
    }

    /// Per-row numbers of one key column.
    private func columnIDs(_ column: Int, _ v: Vector) -> [UInt32] {
        switch v.data {
        case .dict(let codes, let dict):
            let ids = dictionaryIDs(column, dict)
            let nullID = v.validity == nil ? 0 : intern(column, .null)
            if let valid = v.validity { return codes.indices.map { valid[$0] ? ids[Int(codes[$0])] : nullID } }
            return codes.map { ids[Int($0)] }
        case .constant(let c, let n):
            return [UInt32](repeating: intern(column, c), count: n)
        case .int(let x) where v.type == .bigint || v.type == .timestamp:
            // Plain integer keys; runs of equal values (sorted timestamps, repeated statuses) skip
            // the hash lookup.
            var out = [UInt32](repeating: 0, count: x.count)
            var lastValue: Int64 = 0, lastID: UInt32 = 0, haveLast = false
            let isTimestamp = v.type == .timestamp
            if v.validity != nil, nullID[column] == nil { nullID[column] = intern(column, .null) }
            let nullKey = nullID[column] ?? 0
            // Work on locals (moved out of the class): no exclusivity check per row.
            var table = intInterned[column], values = keyValues[column]
            intInterned[column] = [:]; keyValues[column] = []
            for i in x.indices {
                if let valid = v.validity, !valid[i] { out[i] = nullKey; continue }
                let value = x[i]
                if haveLast && lastValue == value { out[i] = lastID; continue }
                let id: UInt32
                if let known = table[value] { id = known } else {
                    id = UInt32(values.count)
                    values.append(isTimestamp ? .timestamp(value) : .int(value))
                    table[value] = id
                }
                out[i] = id; lastValue = value; lastID = id; haveLast = true
            }
            intInterned[column] = table; keyValues[column] = values
            return out
        default:
            return (0..<v.count).map { intern(column, v.value(at: $0)) }
        }
    }

    /// The group number of every row of a batch whose key columns are `keys`.
    func groups(_ keys: [Vector], rows: Int) -> [Int32] {
        if keys.isEmpty { return [Int32](repeating: 0, count: rows) }
        if keys.count == 1, case .dict(let codes, let dict) = keys[0].data { return groups(codes, dict, valid: keys[0].validity) }
        let ids = keys.enumerated().map { columnIDs($0.offset, $0.element) }
        var out = [Int32](repeating: 0, count: rows)
        switch keys.count {
        case 1:
            let a = ids[0]
            growSingle()
            var newKeys: [UInt32] = []
            var next = Int32(groupKeys.count)
            single.withUnsafeMutableBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows {
                    let k = Int(a[r])
                    var g = s[k]
                    if g < 0 { g = next; next += 1; s[k] = g; newKeys.append(a[r]) }
                    o[r] = g
                }
            } }
            groupKeys.append(flat: newKeys)
        case 2:
            let a = ids[0], b = ids[1]
            if fitGrid() {
                var newKeys: [UInt32] = []
                var next = Int32(groupKeys.count)
                let shift = gridShift
                grid.withUnsafeMutableBufferPointer { grid in out.withUnsafeMutableBufferPointer { o in
                    for r in 0..<rows {
                        let cell = Int(a[r]) << shift | Int(b[r])
                        var g = grid[cell]
                        if g < 0 { g = next; next += 1; grid[cell] = g; newKeys.append(a[r]); newKeys.append(b[r]) }
                        o[r] = g
                    }
                } }
                groupKeys.append(flat: newKeys)
            } else {
                for r in 0..<rows {
                    let packed = UInt64(a[r]) | UInt64(b[r]) << 32
                    if let g = pairs[packed] { out[r] = g; continue }
                    let g = Int32(groupKeys.count)
                    pairs[packed] = g
                    groupKeys.append(a[r], b[r])
                    out[r] = g
                }
            }
        case 3 where !triplesOverflowed && ids.allSatisfy({ $0.allSatisfy { $0 < 1 << 21 } }):
            let a = ids[0], b = ids[1], c = ids[2]
            for r in 0..<rows {
                let packed = UInt64(a[r]) | UInt64(b[r]) << 21 | UInt64(c[r]) << 42
                if let g = triples[packed] { out[r] = g; continue }
                let g = Int32(groupKeys.count)
                triples[packed] = g
                groupKeys.append(a[r], b[r], c[r])
                out[r] = g
            }
        default:
            if keys.count == 3 && !triplesOverflowed {
                // A key number past 2^21: the groups move to the general table, for good.
                triplesOverflowed = true
                for (packed, g) in triples { tuples[[UInt32(packed & 0x1F_FFFF), UInt32(packed >> 21 & 0x1F_FFFF), UInt32(packed >> 42)]] = g }
                triples = [:]
            }
            var key = [UInt32](repeating: 0, count: keys.count)
            for r in 0..<rows {
                for k in 0..<keys.count { key[k] = ids[k][r] }
                if let g = tuples[key] { out[r] = g; continue }
                let g = Int32(groupKeys.count)
                tuples[key] = g
                groupKeys.append(flat: key)
                out[r] = g
            }
        }
        return out
    }

    /// `single` covers every key number of column 0 (-1: no group yet).
    func growSingle() {
        if single.count < keyValues[0].count { single.append(contentsOf: repeatElement(-1, count: keyValues[0].count - single.count)) }
    }

    /// One dictionary-coded key: each entry's group found once (in row order, so groups are
    /// numbered as the general path numbers them), then one lookup per row.
    private func groups(_ codes: [UInt32], _ dict: [String], valid: [Bool]?) -> [Int32] {
        let ids = dictionaryIDs(0, dict)
        let nullKey = valid == nil ? 0 : intern(0, .null)
        growSingle()
        var entryGroup = [Int32](repeating: -1, count: dict.count)
        var nullGroup: Int32 = -1
        var out = [Int32](repeating: 0, count: codes.count)
        var newKeys: [UInt32] = []
        var next = Int32(groupKeys.count)
        // Every array on a buffer: no bounds or exclusivity check per row (codes were checked
        // against the dictionary when the page was decoded).
        let validity = valid ?? []
        single.withUnsafeMutableBufferPointer { s in out.withUnsafeMutableBufferPointer { o in codes.withUnsafeBufferPointer { c in
        entryGroup.withUnsafeMutableBufferPointer { eg in validity.withUnsafeBufferPointer { v in
            func group(_ id: UInt32) -> Int32 {
                var g = s[Int(id)]
                if g < 0 { g = next; next += 1; s[Int(id)] = g; newKeys.append(id) }
                return g
            }
            let checksValidity = !v.isEmpty
            for r in 0..<c.count {
                if checksValidity && !v[r] {
                    if nullGroup < 0 { nullGroup = group(nullKey) }
                    o[r] = nullGroup
                    continue
                }
                let e = Int(c[r])
                var g = eg[e]
                if g < 0 { g = group(ids[e]); eg[e] = g }
                o[r] = g
            }
        } }
        } } }
        groupKeys.append(flat: newKeys)
        return out
    }

    /// Makes the two-key grid cover every key number seen so far; false when it would be too big
    /// (then `pairs` holds the groups, once and for all).
    private func fitGrid() -> Bool {
        if grid.isEmpty && !groupKeys.isEmpty { return false }       // already using pairs
        let n0 = keyValues[0].count, n1 = keyValues[1].count
        if n0 <= gridRows && n1 <= 1 << gridShift && !grid.isEmpty { return true }
        var shift = max(gridShift, 4)
        while 1 << shift < n1 { shift += 1 }
        var rowsCap = max(gridRows, 16)
        while rowsCap < n0 { rowsCap *= 2 }
        guard rowsCap << shift <= 1 << 22 else {
            for g in 0..<groupKeys.count { pairs[UInt64(groupKeys[g, 0]) | UInt64(groupKeys[g, 1]) << 32] = Int32(g) }
            grid = []
            return false
        }
        var fresh = [Int32](repeating: -1, count: rowsCap << shift)
        for g in 0..<groupKeys.count { fresh[Int(groupKeys[g, 0]) << shift | Int(groupKeys[g, 1])] = Int32(g) }
        grid = fresh; gridShift = shift; gridRows = rowsCap
        return true
    }

    /// The key columns to merge this table's groups into another (`AggregateState.merge`):
    /// string keys stay dictionary-coded, the dictionary being this table's key values, so the
    /// other table matches them as it matches a row group's dictionary.
    func mergeKeyColumns() -> [Vector] {
        keyTypes.enumerated().map { k, t in
            var dictionary: [String] = [], hasNull = false
            dictionary.reserveCapacity(keyValues[k].count)
            for v in keyValues[k] {
                switch v {
                case .string(let s): dictionary.append(s)
                case .null: dictionary.append(""); hasNull = true
                default: return Vector.from(groupKeys.column(k).map { keyValues[k][Int($0)] }, type: t)
                }
            }
            let codes = groupKeys.column(k)
            let validity = hasNull ? codes.map { keyValues[k][Int($0)] != .null } : nil
            return Vector(type: t, data: .dict(codes: codes, dictionary: dictionary), validity: validity)
        }
    }

    /// The key columns of the groups, in group order.
    func keyColumns() -> [Vector] {
        keyTypes.enumerated().map { k, t in
            Vector.from(groupKeys.column(k).map { keyValues[k][Int($0)] }, type: t)
        }
    }
}
