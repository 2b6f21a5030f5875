extension MinuteTable {
    /// One level of the window [`firstMinute`, `firstMinute` + `minutes`) from the parts that
    /// cover it: counts added cell by cell. A cell's p95 is its part's when one part holds it
    /// (most: a row group covers its own stretch of time); where several do (the minutes at
    /// row group edges, late spans), their latencies are taken together.
    static func assemble(_ parts: [MinutePart], level: KeyPath<MinutePart, MinutePart.Level>, firstMinute: Int64, minutes: Int) -> MinuteTable {
        var table = MinuteTable(names: [], firstMinute: firstMinute, minutes: minutes, requests: [], failed: [], failedCost: [])
        var number: [String: Int] = [:]
        // Per cell: -1 no part yet, -2 several, else the part's index; and its cell there.
        var owner: [Int32] = [], ownerCell: [Int32] = []
        var shared: [Int: [Double]] = [:]
        let levels = parts.map { $0[keyPath: level] }
        for (k, part) in parts.enumerated() {
            let l = levels[k]
            let columns = part.minutes.count
            for (s, name) in l.names.enumerated() {
                let key = name.provider + "\u{0}" + name.model
                let g: Int
                if let known = number[key] { g = known } else {
                    g = table.names.count
                    number[key] = g
                    table.names.append(name)
                    table.grow(by: minutes)
                    owner += repeatElement(-1, count: minutes); ownerCell += repeatElement(0, count: minutes)
                }
                for (c, minute) in part.minutes.enumerated() {
                    let m = Int(minute - firstMinute)
                    let local = s * columns + c
                    guard m >= 0, m < minutes, l.requests[local] > 0 else { continue }
                    let cell = g * minutes + m
                    table.requests[cell] += l.requests[local]
                    table.failed[cell] += l.failed[local]
                    table.failedCost[cell] += l.failedCost[local]
                    guard l.start[local + 1] > l.start[local] else { continue }
                    switch owner[cell] {
                    case -1: owner[cell] = Int32(k); ownerCell[cell] = Int32(local)
                    case -2: shared[cell]! += l.latencies(local)
                    default:
                        let first = levels[Int(owner[cell])]
                        shared[cell] = Array(first.latencies(Int(ownerCell[cell]))) + l.latencies(local)
                        owner[cell] = -2
                    }
                }
            }
        }
        for cell in owner.indices where owner[cell] >= 0 {
            if let p = levels[Int(owner[cell])].p95[Int(ownerCell[cell])] { table.setP95(cell, p) }
        }
        for (cell, values) in shared {
            var v = values
            table.setP95(cell, v.withUnsafeMutableBufferPointer { p95($0) })
        }
        return table
    }

    mutating func grow(by n: Int) {
        requests += repeatElement(0, count: n); failed += repeatElement(0, count: n); failedCost += repeatElement(0, count: n)
        p95 += repeatElement(0, count: n); hasP95 += repeatElement(false, count: n)
    }
}
