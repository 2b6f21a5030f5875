import Foundation
import PlumbCore
import PlumbStore

/// The timed part of an ingest run and its report.
extension IngestBench {
    /// With `PLUMB_PERF_CTL=FIFO`, the timed part is bracketed for `perf record -D -1 --control fifo:FIFO`,
    /// so a profile holds ingest alone and none of the loading.
    static let perfControl = ProcessInfo.processInfo.environment["PLUMB_PERF_CTL"].flatMap { FileHandle(forWritingAtPath: $0) }

    /// One chunk, from the first append until every span of it is published in a segment.
    static func ingest(_ chunk: inout [Span], into store: SpanStore, batched: Bool) throws -> Totals {
        perfControl?.write(Data("enable\n".utf8))
        let u0 = usage()
        let t0 = Date()
        appendAll(&chunk, to: store, batched: batched)
        let appended = Date().timeIntervalSince(t0)
        try store.sync()
        let ingested = Date().timeIntervalSince(t0)
        let u1 = usage()
        perfControl?.write(Data("disable\n".utf8))
        return Totals(spans: chunk.count, ingest: ingested, append: appended, cpu: u1.cpu - u0.cpu, sys: u1.sys - u0.sys, faults: u1.faults - u0.faults)
    }

    /// One writer: span by span (as the proxy appends), or in batches of 1,024 (as importers do).
    @inline(never) static func appendAll(_ spans: inout [Span], to store: SpanStore, batched: Bool) {
        if batched {
            var i = 0
            while i < spans.count {
                let end = min(spans.count, i + 1024)
                try? store.appendWaiting(Array(spans[i..<end]))
                i = end
            }
        } else {
            // Each span is moved out of the array into a local and back after the call: read in
            // place (a subscript, a for-in loop, even a buffer's subscript), it is copied for the
            // call, a retain and release per string (7% of ingest CPU in perf), which a producer
            // handing over a span of its own does not pay.
            spans.withUnsafeMutableBufferPointer { buf in
                guard let base = buf.baseAddress else { return }
                for i in buf.indices {
                    let span = (base + i).move()
                    store.append(span)
                    (base + i).initialize(to: consume span)
                }
            }
        }
    }

    static func usage() -> (cpu: Double, sys: Double, faults: Int) {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        let sys = Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
        return (Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + sys, sys, u.ru_minflt)
    }

    /// The last run's CPU, rates and sizes; closes the store, then compacts it as `plumb serve` would.
    static func report(_ t: Totals, store: SpanStore, options: StoreOptions, batched: Bool) throws {
        let dir = store.directory
        let stats = store.stats
        print(String(format: "cpu: %.2f s of CPU during ingest (%.2f µs per span, %.0f%% of 2 cores; %.2f s in the kernel, %d page faults)",
                     t.cpu, t.cpu / Double(t.spans) * 1e6, t.cpu / t.ingest / 2 * 100, t.sys, t.faults))
        print(String(format: "append: %.2f s (%.0f spans/s producer side, %@)", t.append, Double(t.spans) / t.append, batched ? "batches of 1,024" : "span by span"))
        print(String(format: "ingest: %.2f s, %.0f spans/s (append until published; %d spans, %d WAL group commits (%d with LZ4), %d segments, %d dropped)",
                     t.ingest, t.rate, t.spans, stats.walBatches, stats.walCompressedBatches, stats.segmentsPublished, stats.dropped))
        func segmentBytes() throws -> Int64 { try Catalog(path: dir.catalog, readOnly: true).liveSegments().reduce(0) { $0 + $1.bytes } }
        let before = try segmentBytes()
        print(String(format: "segments: %d bytes, %.2f bytes/span", before, Double(before) / Double(t.spans)))
        try store.close()

        // Compaction into ~2M-row segments, as the serving store does in the background.
        var compacting = options
        compacting.compaction = true
        let again = try SpanStore(directory: dir, options: compacting)
        let tc = Date()
        again.maintainNow()
        let after = try segmentBytes()
        print(String(format: "compacted: %d bytes, %.2f bytes/span (%d segments, %.1f s)", after, Double(after) / Double(t.spans),
                     try Catalog(path: dir.catalog, readOnly: true).liveSegments().count, Date().timeIntervalSince(tc)))
        try again.close()
        print("peak RSS: \(rss())")
    }

    static func rss() -> String {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "?" }
        return s.split(separator: "\n").first { $0.hasPrefix("VmHWM") }.map { String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces) } ?? "?"
    }
}
