import PlumbCore

/// The binary form of a span in the write-ahead log: a presence mask for the optional fields,
/// then every field in schema order (strings and bodies as varint length + UTF-8).
/// `RowGroupBuilder.add` reads this layout in place too: change both together.
public enum SpanRecord {
    public static func encode(_ s: Span, into w: inout ByteWriter) {
        // Written through a pointer into scratch room of an upper bound of the size (on the stack
        // unless bodies make it large), then appended in one copy: appending to the array byte
        // by byte checks uniqueness and capacity at every byte.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxSize(s)) { room in
            var o = RawWriter(base: room.baseAddress!)
            write(s, into: &o)
            w.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: room[0..<o.pos]))
        }
    }

    /// At most this many bytes: every varint at its longest.
    static func maxSize(_ s: Span) -> Int {
        @inline(__always) func str(_ x: String?) -> Int { x.map { 10 + $0.utf8.count } ?? 0 }
        var n = 5 + 4 * 8 + 11 * 10
        n += str(s.spanID) + str(s.traceID) + str(s.parentSpanID) + str(s.sessionID) + str(s.userID)
        n += str(s.provider) + str(s.modelRequested) + str(s.model) + str(s.operation) + str(s.endpoint)
        n += str(s.method) + str(s.errorType) + str(s.finishReason) + str(s.apiKeyHash)
        for (k, v) in s.properties { n += 20 + k.utf8.count + v.utf8.count }
        return n + str(s.requestBody) + str(s.responseBody)
    }

    static func write(_ s: Span, into w: inout RawWriter) {
        var mask: UInt32 = 0
        func bit(_ i: Int, _ present: Bool) { if present { mask |= 1 << UInt32(i) } }
        bit(0, s.traceID != nil); bit(1, s.parentSpanID != nil); bit(2, s.sessionID != nil); bit(3, s.userID != nil)
        bit(4, s.ttftMs != nil); bit(5, s.modelRequested != nil); bit(6, s.model != nil); bit(7, s.errorType != nil)
        bit(8, s.finishReason != nil); bit(9, s.inputTokens != nil); bit(10, s.outputTokens != nil)
        bit(11, s.cacheReadTokens != nil); bit(12, s.cacheWriteTokens != nil); bit(13, s.reasoningTokens != nil)
        bit(14, s.costUSD != nil); bit(15, s.apiKeyHash != nil); bit(16, s.requestBody != nil)
        bit(17, s.responseBody != nil); bit(18, s.stream)
        w.varint(UInt64(mask))
        w.string(s.spanID)
        if let v = s.traceID { w.string(v) }
        if let v = s.parentSpanID { w.string(v) }
        if let v = s.sessionID { w.string(v) }
        if let v = s.userID { w.string(v) }
        w.svarint(s.tsStart); w.svarint(s.tsEnd &- s.tsStart)
        w.f64(s.latencyMs)
        if let v = s.ttftMs { w.f64(v) }
        w.f64(s.upstreamMs)
        w.string(s.provider)
        if let v = s.modelRequested { w.string(v) }
        if let v = s.model { w.string(v) }
        w.string(s.operation); w.string(s.endpoint); w.string(s.method)
        w.svarint(s.status)
        if let v = s.errorType { w.string(v) }
        if let v = s.finishReason { w.string(v) }
        if let v = s.inputTokens { w.svarint(v) }
        if let v = s.outputTokens { w.svarint(v) }
        if let v = s.cacheReadTokens { w.svarint(v) }
        if let v = s.cacheWriteTokens { w.svarint(v) }
        if let v = s.reasoningTokens { w.svarint(v) }
        if let v = s.costUSD { w.f64(v) }
        w.svarint(s.requestBytes); w.svarint(s.responseBytes)
        if let v = s.apiKeyHash { w.string(v) }
        w.varint(UInt64(s.properties.count))
        for (k, v) in s.properties { w.string(k); w.string(v) }
        if let v = s.requestBody { w.string(v) }
        if let v = s.responseBody { w.string(v) }
    }

    public static func decode(_ r: inout ByteReader) throws -> Span {
        let mask = UInt32(truncatingIfNeeded: try r.varint())
        func has(_ i: Int) -> Bool { mask & (1 << UInt32(i)) != 0 }
        func optString(_ i: Int) throws -> String? { has(i) ? try r.string() : nil }
        let spanID = try r.string()
        let traceID = try optString(0), parent = try optString(1), session = try optString(2), user = try optString(3)
        let tsStart = try r.svarint()
        let tsEnd = tsStart &+ (try r.svarint())
        let latency = try r.f64()
        let ttft = has(4) ? try r.f64() : nil
        let upstream = try r.f64()
        let provider = try r.string()
        let modelReq = try optString(5), model = try optString(6)
        let op = try r.string(), endpoint = try r.string(), method = try r.string()
        let status = try r.svarint()
        let errType = try optString(7), finish = try optString(8)
        var tokens: [Int64?] = []
        for i in 9...13 { tokens.append(has(i) ? try r.svarint() : nil) }
        let cost = has(14) ? try r.f64() : nil
        let reqBytes = try r.svarint(), respBytes = try r.svarint()
        let keyHash = try optString(15)
        let nprops = try r.length("property count", elementSize: 2)
        var props: [String: String] = [:]
        for _ in 0..<nprops { let k = try r.string(); props[k] = try r.string() }
        let reqBody = try optString(16), respBody = try optString(17)
        return Span(
            spanID: spanID, traceID: traceID, parentSpanID: parent, sessionID: session, userID: user,
            tsStart: tsStart, tsEnd: tsEnd, latencyMs: latency, ttftMs: ttft, upstreamMs: upstream,
            provider: provider, modelRequested: modelReq, model: model, operation: op, endpoint: endpoint,
            method: method, stream: has(18), status: status, errorType: errType, finishReason: finish,
            inputTokens: tokens[0], outputTokens: tokens[1], cacheReadTokens: tokens[2],
            cacheWriteTokens: tokens[3], reasoningTokens: tokens[4], costUSD: cost,
            requestBytes: reqBytes, responseBytes: respBytes, apiKeyHash: keyHash, properties: props,
            requestBody: reqBody, responseBody: respBody)
    }
}

/// Writes into memory the caller has made room in (see `SpanRecord.maxSize`).
struct RawWriter {
    let base: UnsafeMutablePointer<UInt8>
    var pos = 0

    @inline(__always) mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 { base[pos] = UInt8(truncatingIfNeeded: x) | 0x80; pos &+= 1; x >>= 7 }
        base[pos] = UInt8(x); pos &+= 1
    }

    @inline(__always) mutating func svarint(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    @inline(__always) mutating func f64(_ v: Double) {
        UnsafeMutableRawPointer(base + pos).storeBytes(of: v.bitPattern.littleEndian, as: UInt64.self)
        pos &+= 8
    }

    @inline(__always) mutating func string(_ s: String) {
        let n = s.utf8.count
        varint(UInt64(n))
        let at = base + pos
        if s.utf8.withContiguousStorageIfAvailable({ ByteCopy.copy(to: at, from: $0.baseAddress!, count: n) }) == nil {
            for (i, c) in s.utf8.enumerated() { at[i] = c }
        }
        pos &+= n
    }
}
