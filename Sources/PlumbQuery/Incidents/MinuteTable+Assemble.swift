extension MinuteTable {
    /// One level of the window [`firstMinute`, `firstMinute` + `minutes`) from the parts that
    /// cover it: counts added cell by cell. A cell's p95 is its part's when one part holds it
    /// and has it (a row group's inner minutes); otherwise (the minutes at row group edges,
    /// late spans) the latencies of every part holding the cell are taken together. A trimmed
    /// part (from a rollup) without the latencies such a cell needs is named in `unresolved`.
    static func assemble(_ parts: [MinutePart], level: KeyPath<MinutePart, MinutePart.Level>, firstMinute: Int64, minutes: Int) -> MinuteTable {
        var table = MinuteTable(names: [], firstMinute: firstMinute, minutes: minutes, requests: [], failed: [], failedCost: [])
        var number: [String: Int] = [:]
        // Per cell, the parts with latencies for it: a list threaded through `sources`.
        var head: [Int32] = []
        var sources: [(part: Int32, cell: Int32, next: Int32)] = []
        let levels = parts.map { $0[keyPath: level] }
        for (k, l) in levels.enumerated() {
            let columns = parts[k].minutes.count
            for (s, name) in l.names.enumerated() {
                let key = name.provider + "\u{0}" + name.model
                let g: Int
                if let known = number[key] { g = known } else {
                    g = table.names.count
                    number[key] = g
                    table.names.append(name)
                    table.grow(by: minutes)
                    head += repeatElement(-1, count: minutes)
                }
                for (c, minute) in parts[k].minutes.enumerated() {
                    let m = Int(minute - firstMinute)
                    let local = s * columns + c
                    guard m >= 0, m < minutes, l.requests[local] > 0 else { continue }
                    let cell = g * minutes + m
                    table.requests[cell] += l.requests[local]
                    table.failed[cell] += l.failed[local]
                    table.failedCost[cell] += l.failedCost[local]
                    guard l.start[local + 1] > l.start[local] || l.p95[local] != nil else { continue }
                    sources.append((Int32(k), Int32(local), head[cell]))
                    head[cell] = Int32(sources.count - 1)
                }
            }
        }
        var scratch: [Double] = []
        for cell in head.indices where head[cell] >= 0 {
            var s = sources[Int(head[cell])]
            if s.next < 0, let p = levels[Int(s.part)].p95[Int(s.cell)] { table.setP95(cell, p); continue }
            scratch.removeAll(keepingCapacity: true)
            var complete = true
            while true {
                let l = levels[Int(s.part)]
                if l.trimmed && l.p95[Int(s.cell)] != nil && l.latencies(Int(s.cell)).isEmpty {
                    // A rollup's cell kept only its p95, and another part holds the same minute.
                    table.unresolved.insert(Int(s.part)); complete = false
                }
                scratch += l.latencies(Int(s.cell))
                guard s.next >= 0 else { break }
                s = sources[Int(s.next)]
            }
            if complete { table.setP95(cell, scratch.withUnsafeMutableBufferPointer { p95($0) }) }
        }
        return table
    }

    mutating func grow(by n: Int) {
        requests += repeatElement(0, count: n); failed += repeatElement(0, count: n); failedCost += repeatElement(0, count: n)
        p95 += repeatElement(0, count: n); hasP95 += repeatElement(false, count: n)
    }
}
