import PlumbStore

/// Compares rows by a list of sort keys (each a vector over the same rows), with per-key
/// direction and NULL placement; ties keep arrival order (the sort is stable).
struct RowOrder {
    let keys: [SortColumn]

    init(keys: [Vector], descending: [Bool], nullsFirst: [Bool]) {
        self.keys = keys.indices.map { SortColumn(keys[$0], descending: descending[$0], nullsFirst: nullsFirst[$0]) }
    }

    @inline(__always) func compareRows(_ i: Int, _ j: Int) -> Int {
        for k in keys {
            let c = k.compare(i, j)
            if c != 0 { return c }
        }
        return 0
    }

    /// The first `k` rows of the order among `count` rows, in order: a heap of the best k seen
    /// (its top the worst of them), so most rows cost one comparison.
    func best(_ k: Int, of count: Int) -> [Int] {
        guard k < count else { return permutation(count) }
        guard k > 0 else { return [] }
        // "a before b": by the order, then by arrival (the same tiebreak as `permutation`).
        @inline(__always) func before(_ a: Int, _ b: Int) -> Bool {
            let c = compareRows(a, b)
            return c != 0 ? c < 0 : a < b
        }
        var heap: [Int] = []                        // max-heap under `before`: heap[0] is the worst kept
        heap.reserveCapacity(k)
        func siftUp(_ i0: Int) {
            var i = i0
            while i > 0 {
                let p = (i - 1) / 2
                guard before(heap[p], heap[i]) else { return }
                heap.swapAt(p, i); i = p
            }
        }
        func siftDown(_ i0: Int) {
            var i = i0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && before(heap[m], heap[l]) { m = l }
                if r < heap.count && before(heap[m], heap[r]) { m = r }
                if m == i { return }
                heap.swapAt(i, m); i = m
            }
        }
        for row in 0..<count {
            if heap.count < k { heap.append(row); siftUp(heap.count - 1) }
            else if before(row, heap[0]) { heap[0] = row; siftDown(0) }
        }
        return heap.sorted(by: before)
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

/// One sort key, its values unpacked once into a typed array (dictionary strings as the rank of
/// their entry), so comparing two rows is an array read, not a decode.
final class SortColumn {
    enum Kind { case ints, doubles, values }
    let kind: Kind
    let ints: [Int64]
    let doubles: [Double]
    let values: [Value]
    let valid: [Bool]?
    let descending: Bool
    let nullsFirst: Bool

    init(_ v: Vector, descending: Bool, nullsFirst: Bool) {
        self.descending = descending; self.nullsFirst = nullsFirst
        var valid = v.validity
        var ints: [Int64] = [], doubles: [Double] = [], values: [Value] = []
        var kind = Kind.values
        switch v.data {
        case .int(let x): kind = .ints; ints = x
        case .double, .decimal: kind = .doubles; doubles = Columns.doubles(v)
        case .dict(let codes, let dict):
            // Rank each entry by UTF-8 bytes once; rows compare ranks.
            let order = dict.indices.sorted { UTF8Bytes.compare(dict[$0], dict[$1]) < 0 }
            var rank = [Int64](repeating: 0, count: dict.count)
            var r: Int64 = -1
            for (n, e) in order.enumerated() {
                if n == 0 || UTF8Bytes.compare(dict[order[n - 1]], dict[e]) != 0 { r += 1 }
                rank[e] = r
            }
            kind = .ints; ints = codes.map { rank[Int($0)] }
        case .constant(let c, let n):
            values = [Value](repeating: c, count: n)
            if c.isNull { valid = [Bool](repeating: false, count: n) }
        default:
            values = (0..<v.count).map { v.value(at: $0) }
        }
        self.kind = kind
        self.ints = ints; self.doubles = doubles; self.values = values; self.valid = valid
    }

    @inline(__always) func compare(_ i: Int, _ j: Int) -> Int {
        if let valid {
            let ni = !valid[i], nj = !valid[j]
            if ni || nj {
                if ni && nj { return 0 }
                return ni == nullsFirst ? -1 : 1          // NULL placement ignores direction
            }
        }
        let c: Int
        switch kind {
        case .ints: c = ints[i] < ints[j] ? -1 : (ints[i] > ints[j] ? 1 : 0)
        case .doubles: c = ValueOrder.compareDoubles(doubles[i], doubles[j])
        case .values: c = ValueOrder.compare(values[i], values[j])
        }
        return descending ? -c : c
    }
}
