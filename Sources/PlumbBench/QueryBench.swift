import Foundation
import PlumbCore
import PlumbQuery
import PlumbStore

/// `plumb-bench query DATA_DIR [--now TIME] [--runs 5] [--warmup 1] [--threads N] [--page-cache MB] SQL...`:
/// runs each query in process (as DuckDB's Python API does for its side), warm-up runs first, with
/// checked pages kept between runs as `plumb serve` keeps them (`PageCache`; `--page-cache 0`:
/// every run reads the files), and prints one line per query: `query=K median_ms=M runs_ms=[...] rows=R`. Figures only, no assertions.
enum QueryBench {
    static func run(_ args: [String]) -> Int32 {
        guard let dirPath = args.first else {
            FileHandle.standardError.write(Data("usage: plumb-bench query DATA_DIR [--now TIME] [--runs N] [--warmup N] [--threads N] [--page-cache MB] SQL...\n".utf8))
            return 2
        }
        var runs = 5, warmup = 1, threads = QueryEngine.defaultThreads
        var now = Timestamp.nowMicros()
        var queries: [String] = []
        // As in `plumb serve` (answering /_plumb/query) unless set: pages kept between runs.
        var pageCacheMB = PageCache.defaultBudget >> 20
        var i = 1
        while i < args.count {
            switch args[i] {
            case "--runs": runs = Int(args[i + 1]) ?? runs; i += 2
            case "--warmup": warmup = Int(args[i + 1]) ?? warmup; i += 2
            case "--now": now = (try? Timestamp.parse(args[i + 1])) ?? now; i += 2
            case "--threads": threads = Int(args[i + 1]) ?? threads; i += 2
            case "--page-cache": pageCacheMB = Int(args[i + 1]) ?? pageCacheMB; i += 2
            default: queries.append(args[i]); i += 1
            }
        }
        PageCache.shared.enable(budget: pageCacheMB << 20)
        var engine = QueryEngine(directory: DataDirectory(dirPath), now: now)
        engine.threads = threads
        for (k, sql) in queries.enumerated() {
            var times: [Double] = []
            var rows = 0
            for r in 0..<(warmup + runs) {
                let t = DispatchTime.now().uptimeNanoseconds
                do { rows = try engine.collect(sql).rowCount } catch {
                    print("query=\(k + 1) error=\(error)")
                    break
                }
                let ms = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
                if r >= warmup { times.append(ms) }
            }
            guard !times.isEmpty else { continue }
            let median = times.sorted()[times.count / 2]
            print(String(format: "query=%d median_ms=%.2f rows=%d runs_ms=[%@]", k + 1, median, rows,
                         times.map { String(format: "%.1f", $0) }.joined(separator: ",")))
        }
        return 0
    }
}
