/// k-th smallest element in linear expected time (quickselect, median-of-three pivots): after
/// `select(&v, k)`, `v[k]` is what it would be sorted, everything before it is ≤ and everything
/// after ≥. Quantiles need one or two order statistics, not a full sort.
enum Selection {
    static func select<T>(_ v: inout [T], _ k: Int, _ less: (T, T) -> Bool) {
        v.withUnsafeMutableBufferPointer { select($0, k, less) }
    }

    /// `select` in place in a buffer.
    static func select<T>(_ a: UnsafeMutableBufferPointer<T>, _ k: Int, _ less: (T, T) -> Bool) {
        var lo = 0, hi = a.count - 1
        while hi > lo {
            if hi - lo < 16 {                              // small: insertion sort the rest
                for i in (lo + 1)...hi {
                    let x = a[i]
                    var j = i - 1
                    while j >= lo && less(x, a[j]) { a[j + 1] = a[j]; j -= 1 }
                    a[j + 1] = x
                }
                return
            }
            let mid = lo + (hi - lo) / 2
            if less(a[mid], a[lo]) { a.swapAt(mid, lo) }
            if less(a[hi], a[lo]) { a.swapAt(hi, lo) }
            if less(a[hi], a[mid]) { a.swapAt(hi, mid) }
            let pivot = a[mid]
            var i = lo, j = hi
            while i <= j {
                while less(a[i], pivot) { i += 1 }
                while less(pivot, a[j]) { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }

    /// The smallest element of `v[from...]`.
    static func minimum<T>(_ v: [T], from: Int, _ less: (T, T) -> Bool) -> T {
        var m = v[from]
        for i in (from + 1)..<v.count where less(v[i], m) { m = v[i] }
        return m
    }
}
