import PlumbStore

/// Fills a batch's body columns from its `BodyRef`s, reading each LZ4 block once per batch.
/// Called as late as the query allows: before WHERE only if WHERE reads a body, else just
/// before the rows are aggregated or returned.
final class BodyFetch {
    let reader: BodyReader
    let positions: [(index: Int, request: Bool)]

    init(directory: DataDirectory, columns: [String]) {
        reader = BodyReader(directory: directory)
        positions = columns.enumerated().compactMap { i, n in
            n == "request_body" ? (i, true) : (n == "response_body" ? (i, false) : nil)
        }
    }

    func fill(_ b: inout Batch) {
        guard let refs = b.bodyRefs, !positions.isEmpty else { return }
        var cache: [BodyRef: (String?, String?)] = [:]
        var req = [Value](), resp = [Value]()
        req.reserveCapacity(b.count); resp.reserveCapacity(b.count)
        for ref in refs {
            guard let ref else { req.append(.null); resp.append(.null); continue }
            let pair: (String?, String?)
            if let hit = cache[ref] { pair = hit } else { pair = reader.read(ref); cache[ref] = pair }
            req.append(pair.0.map(Value.string) ?? .null)
            resp.append(pair.1.map(Value.string) ?? .null)
        }
        for (i, isRequest) in positions { b.columns[i] = Vector.from(isRequest ? req : resp, type: .varchar) }
        b.bodyRefs = nil
    }
}
