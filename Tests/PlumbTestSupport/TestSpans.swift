import PlumbCore
#if canImport(Glibc)
import Glibc
#endif

/// Deterministic spans for tests: every column type exercised, with nulls, empty and unicode
/// strings, extreme numbers and empty property maps mixed in.
public struct TestSpans {
    private var state: UInt64

    public init(seed: UInt64 = 42) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    public mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }

    mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }

    public mutating func span(index i: Int, baseMicros: Int64 = 1_795_255_200_000_000, bodies: Bool = false) -> Span {
        let start = baseMicros + Int64(i) * 1_000 + Int64(next() % 1000)
        let latency = Int64(next() % 5_000_000)
        let ok = next() % 10 != 0
        let providers = ["openai", "anthropic", "gemini", "mistral", "groq", "ü-provider", ""]
        let models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "gemini-2.0-flash", "模型-β", "", "o3"]
        let extremes: [Int64?] = [nil, 0, 1, Int64.max, Int64.min, -1, 1 << 40]
        let doubles: [Double?] = [nil, 0, 0.1, 1e-12, 123.456789, -0.0, Double.greatestFiniteMagnitude, .infinity, .nan]
        var s = Span(
            spanID: SpanID.make(millis: UInt64(start / 1000), random: next(), next()),
            traceID: next() % 4 == 0 ? nil : Hex.encode((0..<16).map { _ in UInt8(truncatingIfNeeded: next()) }),
            parentSpanID: next() % 3 == 0 ? Hex.encode((0..<8).map { _ in UInt8(truncatingIfNeeded: next()) }) : nil,
            sessionID: next() % 3 == 0 ? nil : "sess-\(next() % 500)",
            userID: pick([nil, "", "user-\(next() % 5000)", "usér-ünïcødé-😀"]),
            tsStart: start, tsEnd: start + latency,
            latencyMs: Double(latency) / 1000, ttftMs: next() % 2 == 0 ? Double(next() % 100_000) / 1000 : nil,
            upstreamMs: Double(latency) / 1000 * 0.97,
            provider: pick(providers), modelRequested: pick(models), model: pick(models + [nil]),
            operation: pick(["chat", "messages", "generate", "embeddings", "responses", "other"]),
            endpoint: pick(["/v1/chat/completions", "/v1/messages", ""]), method: pick(["POST", "GET"]),
            stream: next() % 2 == 0, status: ok ? 200 : pick([429, 500, 502, 504, 0, -1, Int64.max]),
            errorType: ok ? nil : pick(["rate_limited", "upstream_5xx", "upstream_timeout"]),
            finishReason: ok ? pick(["stop", "length", nil]) : nil,
            inputTokens: pick(extremes + [Int64(next() % 10000)]), outputTokens: pick(extremes + [Int64(next() % 4000)]),
            cacheReadTokens: pick(extremes), cacheWriteTokens: pick(extremes), reasoningTokens: pick(extremes),
            costUSD: pick(doubles + [Double(next() % 1_000_000) / 1e9]),
            requestBytes: Int64(next() % 100_000), responseBytes: pick([0, Int64.max, Int64(next() % 1_000_000)]),
            apiKeyHash: next() % 5 == 0 ? nil : Hex.encode((0..<8).map { _ in UInt8(truncatingIfNeeded: next() % 4) }),
            properties: pick([[:], ["team": "search"], ["team": "ads", "env": "prod", "ключ": "значение"], ["": ""]]))
        if bodies && next() % 2 == 0 {
            s.requestBody = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hello #\#(i) ü"}]}"#
            s.responseBody = next() % 3 == 0 ? nil : String(repeating: "token ", count: Int(next() % 50)) + "😀"
        }
        return s
    }

    public mutating func spans(_ n: Int, from first: Int = 0, bodies: Bool = false) -> [Span] {
        (first..<first + n).map { span(index: $0, bodies: bodies) }
    }
}

/// Spans compare equal when every field matches bit for bit (NaN equal to NaN, -0.0 distinct from 0).
public func sameSpan(_ a: Span, _ b: Span) -> Bool {
    func d(_ x: Double?, _ y: Double?) -> Bool {
        switch (x, y) {
        case (nil, nil): true
        case (let x?, let y?): x.bitPattern == y.bitPattern
        default: false
        }
    }
    var a2 = a, b2 = b
    guard d(a.latencyMs, b.latencyMs), d(a.ttftMs, b.ttftMs), d(a.upstreamMs, b.upstreamMs), d(a.costUSD, b.costUSD) else { return false }
    a2.latencyMs = 0; b2.latencyMs = 0; a2.ttftMs = nil; b2.ttftMs = nil
    a2.upstreamMs = 0; b2.upstreamMs = 0; a2.costUSD = nil; b2.costUSD = nil
    return a2 == b2
}

/// A fresh empty directory under /tmp, removed by the caller when done.
public func makeTempDirectory(_ prefix: String = "plumb-test") -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: p!)
}
