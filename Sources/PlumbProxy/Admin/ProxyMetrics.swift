import Foundation
import PlumbCore

/// Counters and histograms for `/_plumb/metrics`, in the Prometheus text format (0.0.4). Duration
/// and time-to-first-token use the OpenTelemetry GenAI metric names
/// (`gen_ai.client.operation.duration`, `gen_ai.server.time_to_first_token`, in seconds).
///
/// ```swift
/// metrics.record(span)
/// let text = metrics.exposition(store: store.stats)
/// ```
final class ProxyMetrics: @unchecked Sendable {
    struct Key: Hashable, Comparable {
        var provider: String, model: String
        static func < (a: Key, b: Key) -> Bool { (a.provider, a.model) < (b.provider, b.model) }
    }

    struct Histogram {
        static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
        var counts = [Int](repeating: 0, count: bounds.count)
        var sum = 0.0, count = 0
        mutating func observe(_ seconds: Double) {
            if let i = Self.bounds.firstIndex(where: { seconds <= $0 }) { counts[i] += 1 }
            sum += seconds; count += 1
        }
    }

    private let lock = NSLock()
    private var requests: [Key: [Int64: Int]] = [:]
    private var errors: [Key: [String: Int]] = [:]
    private var duration: [Key: Histogram] = [:]
    private var ttft: [Key: Histogram] = [:]
    private var tokens: [Key: [String: Int64]] = [:]
    private var costUSD: [Key: Double] = [:]

    func record(_ s: Span) {
        let key = Key(provider: s.provider, model: s.model ?? "")
        lock.lock(); defer { lock.unlock() }
        requests[key, default: [:]][s.status, default: 0] += 1
        if let e = s.errorType { errors[key, default: [:]][e, default: 0] += 1 }
        duration[key, default: Histogram()].observe(s.latencyMs / 1000)
        if let t = s.ttftMs { ttft[key, default: Histogram()].observe(t / 1000) }
        for (name, v) in [("input", s.inputTokens), ("output", s.outputTokens), ("cache_read", s.cacheReadTokens),
                          ("cache_write", s.cacheWriteTokens), ("reasoning", s.reasoningTokens)] {
            if let v { tokens[key, default: [:]][name, default: 0] += v }
        }
        if let c = s.costUSD { costUSD[key, default: 0] += c }
    }

    func exposition(store: StoreCountersView) -> String {
        lock.lock(); defer { lock.unlock() }
        var out = ""
        func labels(_ k: Key, _ extra: String = "") -> String {
            "provider=\"\(escape(k.provider))\",model=\"\(escape(k.model))\"" + extra
        }
        out += "# HELP plumb_requests_total Requests through the proxy, by provider, model and HTTP status returned.\n# TYPE plumb_requests_total counter\n"
        for k in requests.keys.sorted() { for (st, n) in requests[k]!.sorted(by: { $0.key < $1.key }) { out += "plumb_requests_total{\(labels(k, ",status=\"\(st)\""))} \(n)\n" } }
        out += "# HELP plumb_errors_total Failed requests, by provider, model and error type.\n# TYPE plumb_errors_total counter\n"
        for k in errors.keys.sorted() { for (e, n) in errors[k]!.sorted(by: { $0.key < $1.key }) { out += "plumb_errors_total{\(labels(k, ",error_type=\"\(escape(e))\""))} \(n)\n" } }
        func histogram(_ name: String, _ help: String, _ h: [Key: Histogram]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            for k in h.keys.sorted() {
                let v = h[k]!
                var cumulative = 0
                for (i, b) in Histogram.bounds.enumerated() {
                    cumulative += v.counts[i]
                    out += "\(name)_bucket{\(labels(k, ",le=\"\(b)\""))} \(cumulative)\n"
                }
                out += "\(name)_bucket{\(labels(k, ",le=\"+Inf\""))} \(v.count)\n"
                out += "\(name)_sum{\(labels(k))} \(v.sum)\n\(name)_count{\(labels(k))} \(v.count)\n"
            }
        }
        histogram("gen_ai_client_operation_duration_seconds", "Client-observed duration of calls through Plumb.", duration)
        histogram("gen_ai_server_time_to_first_token_seconds", "Time to the first byte of a streamed response.", ttft)
        out += "# HELP plumb_tokens_total Tokens by provider, model and type (input counts cached tokens; output counts reasoning).\n# TYPE plumb_tokens_total counter\n"
        for k in tokens.keys.sorted() { for (t, n) in tokens[k]!.sorted(by: { $0.key < $1.key }) { out += "plumb_tokens_total{\(labels(k, ",type=\"\(t)\""))} \(n)\n" } }
        out += "# HELP plumb_cost_usd_total Cost of priced calls in USD.\n# TYPE plumb_cost_usd_total counter\n"
        for k in costUSD.keys.sorted() { out += "plumb_cost_usd_total{\(labels(k))} \(costUSD[k]!)\n" }
        out += "# HELP plumb_spans_written_total Spans accepted by the store.\n# TYPE plumb_spans_written_total counter\nplumb_spans_written_total \(store.appended)\n"
        out += "# HELP plumb_spans_dropped_total Spans the store could not take (queue full or store closed).\n# TYPE plumb_spans_dropped_total counter\nplumb_spans_dropped_total \(store.dropped)\n"
        out += "# HELP plumb_spans_published_seq Sequence number of the last span in a published segment (visible to queries).\n# TYPE plumb_spans_published_seq gauge\nplumb_spans_published_seq \(store.publishedSeq)\n"
        out += "# HELP plumb_store_errors_total Write-ahead log and publish errors.\n# TYPE plumb_store_errors_total counter\nplumb_store_errors_total \(store.errors)\n"
        return out
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// The store figures the metrics page shows.
struct StoreCountersView {
    var appended = 0, dropped = 0, errors = 0
    var publishedSeq: UInt64 = 0
}
