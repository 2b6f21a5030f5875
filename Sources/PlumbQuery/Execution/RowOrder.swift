import PlumbStore

/// Compares rows by a list of sort keys (each a vector over the same rows), with per-key
/// direction and NULL placement; ties keep arrival order (the sort is stable).
struct RowOrder {
    let keys: [Vector]
    let descending: [Bool]
    let nullsFirst: [Bool]

    func compareRows(_ i: Int, _ j: Int) -> Int {
        for k in keys.indices {
            let c = compare(keys[k], i, j, nullsFirst: nullsFirst[k], descending: descending[k])
            if c != 0 { return c }
        }
        return 0
    }

    @inline(__always) private func compare(_ v: Vector, _ i: Int, _ j: Int, nullsFirst: Bool, descending: Bool) -> Int {
        let ni = !v.isValid(i), nj = !v.isValid(j)
        if ni || nj {
            if ni && nj { return 0 }
            return ni == nullsFirst ? -1 : 1          // NULL placement ignores direction
        }
        var c: Int
        switch v.data {
        case .int(let x): c = x[i] < x[j] ? -1 : (x[i] > x[j] ? 1 : 0)
        case .double(let x): c = ValueOrder.compareDoubles(x[i], x[j])
        case .string(let x): c = Int(UTF8Bytes.compare(x[i], x[j]).signum())
        case .dict(let codes, let d): c = codes[i] == codes[j] ? 0 : Int(UTF8Bytes.compare(d[Int(codes[i])], d[Int(codes[j])]).signum())
        default: c = ValueOrder.compare(v.value(at: i), v.value(at: j))
        }
        return descending ? -c : c
    }

    /// The permutation that sorts `count` rows.
    func permutation(_ count: Int) -> [Int] {
        var idx = Array(0..<count)
        idx.sort { a, b in
            let c = compareRows(a, b)
            return c != 0 ? c < 0 : a < b                 // the arrival index makes it stable
        }
        return idx
    }
}
