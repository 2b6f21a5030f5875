/// Numbers the distinct GROUP BY keys as rows arrive. Each key column is interned on its own
/// (a dictionary-coded column once per dictionary entry, not per row), then the per-column
/// numbers are combined: with one or two keys into a single integer, beyond that as a tuple.
final class GroupTable {
    /// The distinct values of each key column, by number.
    private(set) var keyValues: [[Value]]
    private var interned: [[Value: UInt32]]
    private var pairs: [UInt64: Int32] = [:]
    private var tuples: [[UInt32]: Int32] = [:]
    /// For each group, the per-column numbers of its key.
    private(set) var groupKeys: [[UInt32]] = []
    let keyTypes: [SQLType]

    init(keyTypes: [SQLType]) {
        self.keyTypes = keyTypes
        keyValues = Array(repeating: [], count: keyTypes.count)
        interned = Array(repeating: [:], count: keyTypes.count)
    }

    var count: Int { keyTypes.isEmpty ? 1 : groupKeys.count }

    private func intern(_ column: Int, _ v: Value) -> UInt32 {
        if let id = interned[column][v] { return id }
        let id = UInt32(keyValues[column].count)
        keyValues[column].append(v)
        interned[column][v] = id
        return id
    }

    /// Per-row numbers of one key column.
    private func columnIDs(_ column: Int, _ v: Vector) -> [UInt32] {
        switch v.data {
        case .dict(let codes, let dict):
            let ids = dict.map { intern(column, .string($0)) }
            let nullID = v.validity == nil ? 0 : intern(column, .null)
            if let valid = v.validity { return codes.indices.map { valid[$0] ? ids[Int(codes[$0])] : nullID } }
            return codes.map { ids[Int($0)] }
        case .constant(let c, let n):
            return [UInt32](repeating: intern(column, c), count: n)
        case .int(let x) where v.type == .bigint || v.type == .timestamp:
            // Runs of equal values (sorted timestamps, repeated statuses) skip the hash lookup.
            var out = [UInt32](repeating: 0, count: x.count)
            var last: (Int64, UInt32)? = nil
            for i in x.indices {
                if !v.isValid(i) { out[i] = intern(column, .null); continue }
                if let l = last, l.0 == x[i] { out[i] = l.1; continue }
                let id = intern(column, v.type == .timestamp ? .timestamp(x[i]) : .int(x[i]))
                out[i] = id; last = (x[i], id)
            }
            return out
        default:
            return (0..<v.count).map { intern(column, v.value(at: $0)) }
        }
    }

    /// The group number of every row of a batch whose key columns are `keys`.
    func groups(_ keys: [Vector], rows: Int) -> [Int32] {
        if keys.isEmpty { return [Int32](repeating: 0, count: rows) }
        let ids = keys.enumerated().map { columnIDs($0.offset, $0.element) }
        var out = [Int32](repeating: 0, count: rows)
        if keys.count <= 2 {
            for r in 0..<rows {
                let packed = UInt64(ids[0][r]) | (keys.count == 2 ? UInt64(ids[1][r]) << 32 : 0)
                if let g = pairs[packed] { out[r] = g; continue }
                let g = Int32(groupKeys.count)
                pairs[packed] = g
                groupKeys.append(ids.map { $0[r] })
                out[r] = g
            }
        } else {
            var key = [UInt32](repeating: 0, count: keys.count)
            for r in 0..<rows {
                for k in 0..<keys.count { key[k] = ids[k][r] }
                if let g = tuples[key] { out[r] = g; continue }
                let g = Int32(groupKeys.count)
                tuples[key] = g
                groupKeys.append(key)
                out[r] = g
            }
        }
        return out
    }

    /// The key columns of the groups, in group order.
    func keyColumns() -> [Vector] {
        keyTypes.enumerated().map { k, t in
            Vector.from(groupKeys.map { keyValues[k][Int($0[k])] }, type: t)
        }
    }
}
