import PlumbStore

/// A `MinutePart` as bytes, for the minute rollups `plumb serve` writes beside its segments
/// (`MinuteRollups`). A cell whose p95 the part already has is written without its latencies
/// (the part is then `trimmed`) unless `keepLatencies` says another segment holds spans of
/// that minute: latencies are the bulk of a part, and a cell held by one row group needs only
/// its p95. Where another part turns out to hold the same cell after all (a span that landed
/// late), the assembly asks for the row group to be read again (`MinuteTable.unresolved`).
///
/// ```swift
/// let bytes = part.encoded()
/// let back = try MinutePart(decoding: bytes)      // back.models.trimmed == true
/// ```
extension MinutePart {
    func encoded(keepLatencies: (_ minute: Int64) -> Bool = { _ in false }) -> [UInt8] {
        var w = ByteWriter(capacity: 256 + minutes.count * 8)
        w.varint(UInt64(minutes.count))
        var previous: Int64 = 0
        for m in minutes { w.svarint(m - previous); previous = m }
        let keep = minutes.map(keepLatencies)
        Self.encode(models, keep: keep, into: &w)
        Self.encode(providers, keep: keep, into: &w)
        return w.bytes
    }

    init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        let count = try r.length("minutes", elementSize: 1)
        var minutes: [Int64] = []
        minutes.reserveCapacity(count)
        var previous: Int64 = 0
        for _ in 0..<count { previous += try r.svarint(); minutes.append(previous) }
        self.minutes = minutes
        models = try Self.decode(&r, columns: count)
        providers = try Self.decode(&r, columns: count)
        guard r.remaining == 0 else { throw FormatError("\(r.remaining) bytes after a minute part") }
    }

    /// Names, then per cell: requests, failures (and their cost where any), whether the p95
    /// and the latencies follow (bit 0: p95, bit 1: latencies), then those.
    private static func encode(_ l: Level, keep: [Bool], into w: inout ByteWriter) {
        w.varint(UInt64(l.names.count))
        for n in l.names { w.string(n.provider); w.string(n.model) }
        for c in l.requests.indices {
            w.varint(UInt64(l.requests[c]))
            guard l.requests[c] > 0 else { continue }
            w.varint(UInt64(l.failed[c]))
            if l.failed[c] > 0 { w.f64(l.failedCost[c]) }
            let p95 = l.p95[c], latencies = p95 == nil || keep[c % keep.count]
            let scaled = latencies ? Self.scaled(l.latencies(c)) : nil
            w.u8((p95 == nil ? 0 : 1) | (latencies ? 2 : 0) | (scaled != nil ? 4 : 0))
            if let p95 { w.f64(p95) }
            if let scaled {
                w.u8(scaled.digits); w.varint(UInt64(scaled.values.count))
                var previous: Int64 = 0
                for v in scaled.values { w.svarint(v &- previous); previous = v }
            } else if latencies {
                let values = l.latencies(c)
                w.varint(UInt64(values.count))
                for v in values { w.f64(v) }
            }
        }
    }

    private static func decode(_ r: inout ByteReader, columns: Int) throws -> Level {
        let scopes = try r.length("scopes", elementSize: 2)
        var names: [(provider: String, model: String)] = []
        for _ in 0..<scopes { names.append((try r.string(), try r.string())) }
        let (cells, overflow) = scopes.multipliedReportingOverflow(by: columns)
        guard !overflow, cells <= r.remaining else { throw FormatError("\(scopes) scopes × \(columns) minutes exceed the part") }
        var requests = [Int32](repeating: 0, count: cells), failed = requests
        var failedCost = [Double](repeating: 0, count: cells)
        var p95 = [Double?](repeating: nil, count: cells)
        var start = [Int32](repeating: 0, count: cells + 1)
        var latencies: [Double] = []
        for c in 0..<cells {
            requests[c] = try Self.count(&r, "requests")
            if requests[c] > 0 {
                failed[c] = try Self.count(&r, "failures")
                guard failed[c] <= requests[c] else { throw FormatError("more failures than requests in a minute") }
                if failed[c] > 0 { failedCost[c] = try r.f64() }
                let flags = try r.u8()
                guard flags & 2 != 0 || flags == 1, flags < 8 else { throw FormatError("minute cell flags \(flags)") }
                if flags & 1 != 0 { p95[c] = try r.f64() }
                if flags & 4 != 0 {
                    let digits = try r.u8()
                    guard let scale = Self.scales[Int(digits)] else { throw FormatError("latency scale \(digits)") }
                    let n = try r.length("latencies", elementSize: 1)
                    guard n <= requests[c] else { throw FormatError("more latencies than requests in a minute") }
                    var v: Int64 = 0
                    for _ in 0..<n { v = v &+ (try r.svarint()); latencies.append(Double(v) / scale) }
                } else if flags & 2 != 0 {
                    let n = try r.length("latencies", elementSize: 8)
                    guard n <= requests[c] else { throw FormatError("more latencies than requests in a minute") }
                    for _ in 0..<n { latencies.append(try r.f64()) }
                }
            }
            start[c + 1] = Int32(latencies.count)
        }
        return Level(names: names, requests: requests, failed: failed, failedCost: failedCost, p95: p95,
                     start: start, latencies: latencies, trimmed: true)
    }

    /// Latencies are milliseconds to at most 6 decimals (nanoseconds): written as sorted whole
    /// numbers of 10^-digits ms, deltas of a few bits each, where every value comes back
    /// exactly; nil when one would not (then they are written as doubles).
    static let scales: [Int: Double] = [0: 1, 3: 1_000, 6: 1_000_000]

    static func scaled(_ values: ArraySlice<Double>) -> (digits: UInt8, values: [Int64])? {
        for digits in [0, 3, 6] {
            let scale = scales[digits]!
            var out: [Int64] = []
            out.reserveCapacity(values.count)
            for v in values {
                let x = (v * scale).rounded()
                guard abs(x) < 1e15, (Double(Int64(x)) / scale).bitPattern == v.bitPattern else { out.removeAll(); break }
                out.append(Int64(x))
            }
            if out.count == values.count { return (UInt8(digits), out.sorted()) }
        }
        return nil
    }

    private static func count(_ r: inout ByteReader, _ what: StaticString) throws -> Int32 {
        let v = try r.varint()
        guard v <= UInt64(Int32.max) else { throw FormatError("\(what) out of range") }
        return Int32(v)
    }
}
