import Foundation
import PlumbCore
import PlumbStore

/// `plumb-bench ingest FILE.jsonl DATA_DIR [--chunk N] [--runs N] [--repeat N] [--batch] [--breakdown]`:
/// loads the spans chunk by chunk (`SpanSource`, never timed), times one producer appending each
/// chunk until every span of it is published in a segment, and prints each run's rate (a fresh
/// store each run; with `--runs N`, their median too), then the CPU, the bytes per span of the
/// segment files (bodies apart) before and after compaction, and the peak RSS of the last run.
/// Run by tools/bench/store_bench.sh; figures are printed, never asserted.
///
/// ```
/// plumb-bench ingest /tmp/plumb-bench/spans-10000000.jsonl /tmp/ing --chunk 1000000 --runs 3
/// ```
enum IngestBench {
    /// What the timed parts of a run used.
    struct Totals {
        var spans = 0, ingest = 0.0, append = 0.0, cpu = 0.0, sys = 0.0, faults = 0
        var rate: Double { Double(spans) / ingest }
    }

    static func run(_ args: [String]) throws -> Int32 {
        guard args.count >= 2 else {
            FileHandle.standardError.write(Data("usage: plumb-bench ingest FILE.jsonl DATA_DIR [--chunk N] [--runs N] [--repeat N] [--batch] [--breakdown] [--no-commit-delay] [--wal-lz4|--wal-raw]\n".utf8))
            return 2
        }
        func number(_ flag: String) -> Int? { args.firstIndex(of: flag).flatMap { $0 + 1 < args.count ? Int(args[$0 + 1]) : nil } }
        let chunkSize = number("--chunk") ?? 1_000_000
        let runs = max(1, number("--runs") ?? 1)
        // --repeat N: the first chunk N more times, each rate printed (for side-by-side runs of two
        // builds: many samples from one load; the store does not mind repeated span ids).
        let repeats = number("--repeat") ?? 0
        let batched = args.contains("--batch")

        var source = try SpanSource(path: args[0])
        let loadStart = Date()
        guard var first = try source.next(limit: chunkSize) else {
            FileHandle.standardError.write(Data("plumb-bench: \(args[0]) holds no spans\n".utf8))
            return 1
        }
        print(String(format: "loaded the first %d spans in %.1f s from %@ (loading is never timed)", first.count,
                     Date().timeIntervalSince(loadStart), source.fromCache ? source.cachePath : "the JSON lines (records cached beside them)"))
        if args.contains("--breakdown") { IngestBreakdown.run(first); return 0 }

        let dir = DataDirectory(args[1])
        var options = StoreOptions()
        options.compaction = false
        options.maintenanceInterval = 1e9
        // For a side-by-side check of the WAL's gathering window: --no-commit-delay turns it off.
        if args.contains("--no-commit-delay") { options.walCommitDelay = 0 }
        // WAL frames: LZ4 only while the disk is the bottleneck (default), or --wal-lz4 / --wal-raw.
        if args.contains("--wal-lz4") { options.walCompression = .always }
        if args.contains("--wal-raw") { options.walCompression = .never }

        var rates: [Double] = []
        for run in 1...runs {
            if run > 1 {
                try? FileManager.default.removeItem(atPath: dir.path)
                source.rewind()
                first = try source.next(limit: chunkSize) ?? []
            }
            let store = try SpanStore(directory: dir, options: options)
            var totals = Totals()
            var repeatRates: [Double] = []
            totals.add(try ingest(&first, into: store, batched: batched))
            for _ in 0..<repeats {
                let t = try ingest(&first, into: store, batched: batched)
                totals.add(t)
                repeatRates.append(t.rate)
            }
            first = []
            if !repeatRates.isEmpty {
                print("repeats: " + repeatRates.map { String(format: "%.0f", $0) }.joined(separator: " ")
                      + String(format: " spans/s; median %.0f", median(repeatRates)))
            } else {
                while var chunk = try source.next(limit: chunkSize) { totals.add(try ingest(&chunk, into: store, batched: batched)) }
            }
            rates.append(totals.rate)
            if runs > 1 {
                print(String(format: "run %d: %.2f s, %.0f spans/s (%.2f µs of CPU per span, %.2f s in the kernel, %d page faults)",
                             run, totals.ingest, totals.rate, totals.cpu / Double(totals.spans) * 1e6, totals.sys, totals.faults))
            }
            if run == runs { try report(totals, store: store, options: options, batched: batched) } else { try store.close() }
        }
        if runs > 1 {
            print("runs: " + rates.map { String(format: "%.0f", $0) }.joined(separator: " ")
                  + String(format: " spans/s; median %.0f", median(rates)))
        }
        return 0
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
}

extension IngestBench.Totals {
    mutating func add(_ o: Self) {
        spans += o.spans; ingest += o.ingest; append += o.append; cpu += o.cpu; sys += o.sys; faults += o.faults
    }
}
