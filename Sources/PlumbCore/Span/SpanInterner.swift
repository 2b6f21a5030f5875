/// Shares one instance of each repeated low-cardinality value (provider, model, endpoint,
/// key hash, property maps, ...) across spans. Bulk loaders use it: millions of spans then hold
/// a few hundred distinct strings instead of millions of copies, which saves memory and keeps
/// every later pass over the spans in cache.
///
/// ```swift
/// var pool = SpanInterner()
/// let span = pool.intern(try Span(json: value))
/// ```
public struct SpanInterner {
    private var strings: Set<String> = []
    private var maps: Set<[String: String]> = []
    private let maxEntries: Int

    public init(maxEntries: Int = 100_000) { self.maxEntries = maxEntries }

    @inline(__always) mutating func one(_ s: String) -> String {
        if let hit = strings.firstIndex(of: s) {
            let shared = strings[hit]
            // Canonically equal but different bytes: keep the original.
            return shared.utf8.count == s.utf8.count && shared.utf8.elementsEqual(s.utf8) ? shared : s
        }
        if strings.count < maxEntries { strings.insert(s) }
        return s
    }

    @inline(__always) mutating func one(_ s: String?) -> String? { s.map { one($0) } }

    public mutating func intern(_ span: Span) -> Span {
        var x = span
        x.provider = one(x.provider); x.modelRequested = one(x.modelRequested); x.model = one(x.model)
        x.operation = one(x.operation); x.endpoint = one(x.endpoint); x.method = one(x.method)
        x.errorType = one(x.errorType); x.finishReason = one(x.finishReason); x.apiKeyHash = one(x.apiKeyHash)
        if !x.properties.isEmpty {
            if let hit = maps.firstIndex(of: x.properties) { x.properties = maps[hit] }
            else if maps.count < maxEntries { maps.insert(x.properties) }
        }
        return x
    }
}
