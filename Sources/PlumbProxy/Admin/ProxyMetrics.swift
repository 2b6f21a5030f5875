import Foundation
import PlumbCore
import PlumbExport

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

    /// Everything kept for one provider and model: one dictionary probe per recorded call.
    struct Series {
        var requests: [Int64: Int] = [:]
        var errors: [String: Int] = [:]
        var duration = Histogram()
        var ttft = Histogram()
        /// input, output, cache_read, cache_write, reasoning; nil until a call reports the type.
        var tokens: [Int64?] = [nil, nil, nil, nil, nil]
        var costUSD: Double?

        static let tokenTypes = ["input", "output", "cache_read", "cache_write", "reasoning"]

        mutating func record(_ s: Span) {
            requests[s.status, default: 0] += 1
            if let e = s.errorType { errors[e, default: 0] += 1 }
            duration.observe(s.latencyMs / 1000)
            if let t = s.ttftMs { ttft.observe(t / 1000) }
            add(s.inputTokens, 0); add(s.outputTokens, 1); add(s.cacheReadTokens, 2)
            add(s.cacheWriteTokens, 3); add(s.reasoningTokens, 4)
            if let c = s.costUSD { costUSD = (costUSD ?? 0) + c }
        }

        private mutating func add(_ v: Int64?, _ i: Int) {
            if let v { tokens[i] = (tokens[i] ?? 0) + v }
        }
    }

    private let lock = NSLock()
    private var series: [Key: Series] = [:]
    /// Calls refused before routing (unknown provider, bad path, unauthorised), and those of
    /// them not stored as spans because they came faster than the recording limit.
    private var rejected = 0, rejectedUnrecorded = 0

    /// Label values come from callers (a model name in a body): each is cut to this many bytes,
    /// and past `maxSeries` provider/model pairs a new model counts under `other`, so that
    /// neither the page (about 4 KB a series) nor the memory behind it grows with what clients send.
    static let maxLabelBytes = 100
    let maxSeries: Int

    init(maxSeries: Int = 256) { self.maxSeries = maxSeries }

    private let pageLock = NSLock()
    private var cachedPage: (madeAt: UInt64, text: String)?

    /// The exposition, made at most once a second (later asks within it get the same page).
    func page(store: StoreCountersView) -> String {
        pageLock.lock(); defer { pageLock.unlock() }
        let now = Monotonic.nanos()
        if let c = cachedPage, now &- c.madeAt < 1_000_000_000 { return c.text }
        let text = exposition(store: store)
        cachedPage = (now, text)
        return text
    }

    /// The provider label of a call: a configured provider, else `unknown` (the name a caller
    /// put in the path is not a label).
    func record(_ s: Span, routed: Bool = true) {
        let provider = routed ? Self.label(s.provider) : "unknown"
        var key = Key(provider: provider, model: Self.label(s.model ?? ""))
        lock.lock(); defer { lock.unlock() }
        if series[key] == nil && series.count >= maxSeries { key.model = "other" }
        series[key, default: Series()].record(s)
    }

    /// A refused call: counted; `recorded` says whether it was also stored as a span.
    func rejectedCall(recorded: Bool) {
        lock.lock(); defer { lock.unlock() }
        rejected += 1
        if !recorded { rejectedUnrecorded += 1 }
    }

    static func label(_ value: String) -> String {
        value.utf8.count > maxLabelBytes ? value.prefix(utf8Bytes: maxLabelBytes) + "…" : value
    }

    /// The page is written from a copy: `record()` on every call waits only for the copy.
    func exposition(store: StoreCountersView) -> String {
        lock.lock()
        let series = self.series, rejected = self.rejected, rejectedUnrecorded = self.rejectedUnrecorded
        lock.unlock()
        var out = ""
        func labels(_ k: Key, _ extra: String = "") -> String {
            "provider=\"\(escape(k.provider))\",model=\"\(escape(k.model))\"" + extra
        }
        let keys = series.keys.sorted()
        out += "# HELP plumb_requests_total Requests through the proxy, by provider, model and HTTP status returned.\n# TYPE plumb_requests_total counter\n"
        for k in keys { for (st, n) in series[k]!.requests.sorted(by: { $0.key < $1.key }) { out += "plumb_requests_total{\(labels(k, ",status=\"\(st)\""))} \(n)\n" } }
        out += "# HELP plumb_errors_total Failed requests, by provider, model and error type.\n# TYPE plumb_errors_total counter\n"
        for k in keys { for (e, n) in series[k]!.errors.sorted(by: { $0.key < $1.key }) { out += "plumb_errors_total{\(labels(k, ",error_type=\"\(escape(e))\""))} \(n)\n" } }
        func histogram(_ name: String, _ help: String, _ pick: (Series) -> Histogram) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            for k in keys {
                let v = pick(series[k]!)
                guard v.count > 0 else { continue }
                var cumulative = 0
                for (i, b) in Histogram.bounds.enumerated() {
                    cumulative += v.counts[i]
                    out += "\(name)_bucket{\(labels(k, ",le=\"\(b)\""))} \(cumulative)\n"
                }
                out += "\(name)_bucket{\(labels(k, ",le=\"+Inf\""))} \(v.count)\n"
                out += "\(name)_sum{\(labels(k))} \(v.sum)\n\(name)_count{\(labels(k))} \(v.count)\n"
            }
        }
        histogram("gen_ai_client_operation_duration_seconds", "Client-observed duration of calls through Plumb.", \.duration)
        histogram("gen_ai_server_time_to_first_token_seconds", "Time to the first byte of a streamed response.", \.ttft)
        out += "# HELP plumb_tokens_total Tokens by provider, model and type (input counts cached tokens; output counts reasoning).\n# TYPE plumb_tokens_total counter\n"
        for k in keys {
            // Sorted by type name, as before.
            for (t, n) in zip(Series.tokenTypes, series[k]!.tokens).sorted(by: { $0.0 < $1.0 }) {
                if let n { out += "plumb_tokens_total{\(labels(k, ",type=\"\(t)\""))} \(n)\n" }
            }
        }
        out += "# HELP plumb_cost_usd_total Cost of priced calls in USD.\n# TYPE plumb_cost_usd_total counter\n"
        for k in keys { if let c = series[k]!.costUSD { out += "plumb_cost_usd_total{\(labels(k))} \(c)\n" } }
        out += "# HELP plumb_rejected_requests_total Requests Plumb refused before calling a provider (unknown provider, bad path, unauthorised, too large).\n# TYPE plumb_rejected_requests_total counter\nplumb_rejected_requests_total \(rejected)\n"
        out += "# HELP plumb_rejected_unrecorded_total Refused requests not stored as spans (over the rate at which refusals are recorded).\n# TYPE plumb_rejected_unrecorded_total counter\nplumb_rejected_unrecorded_total \(rejectedUnrecorded)\n"
        out += "# HELP plumb_spans_written_total Spans accepted by the store.\n# TYPE plumb_spans_written_total counter\nplumb_spans_written_total \(store.appended)\n"
        out += "# HELP plumb_spans_dropped_total Spans the store could not take (queue full or store closed).\n# TYPE plumb_spans_dropped_total counter\nplumb_spans_dropped_total \(store.dropped)\n"
        out += "# HELP plumb_spans_published_seq Sequence number of the last span in a published segment (visible to queries).\n# TYPE plumb_spans_published_seq gauge\nplumb_spans_published_seq \(store.publishedSeq)\n"
        out += "# HELP plumb_store_errors_total Write-ahead log and publish errors.\n# TYPE plumb_store_errors_total counter\nplumb_store_errors_total \(store.errors)\n"
        out += "# HELP plumb_memory_bytes Memory by part: each bounded buffer, and malloc's own figures (system: taken from the OS; in_use; free: held in the heap).\n# TYPE plumb_memory_bytes gauge\n"
        for (part, bytes) in store.memory { out += "plumb_memory_bytes{part=\"\(part)\"} \(bytes)\n" }
        out += Self.exportExposition(store.exporters)
        return out
    }

    private func escape(_ s: String) -> String { PrometheusText.escapeLabel(s) }
}

/// The store figures the metrics page shows.
struct StoreCountersView {
    var appended = 0, dropped = 0, errors = 0
    var publishedSeq: UInt64 = 0
    var exporters: [ExportStats] = []
    /// Bytes by part (`ProxyCore.memoryParts`).
    var memory: [(part: String, bytes: Int)] = []
}
