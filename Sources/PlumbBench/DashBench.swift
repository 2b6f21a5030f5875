import Foundation
import PlumbCore
import PlumbDash
import PlumbQuery
import PlumbStore

/// `plumb-bench dash DATA_DIR [--now TIME | --live] [--frames 20] [--gap SECONDS] [--width 160] [--threads N] [--column-cache MB] [--page-cache MB] [--by-panel] [--memory] [NAME...]`:
/// refreshes and draws each dashboard repeatedly in process, as `plumb dash` does (row groups'
/// aggregates kept between frames), and prints the first frame's time and the median and p99 of
/// the frames after it. With `--now`, each frame is 2 s later than the one before; with
/// `--live`, frames use the clock (run it while `plumb serve` writes) and `--gap` waits between
/// them like the refresh interval. `--column-cache` sets the decoded-column cache's size (0:
/// none; default: the dashboard's own); `--threads` each query's scan threads (default: the
/// cores). `--by-panel` also times each panel alone as a first
/// frame would run it (fresh caches, `--frames` times, median). `--memory` prints what the
/// decoded-column and page caches hold after the first frame. Figures only, no assertions.
enum DashBench {
    static func run(_ args: [String]) -> Int32 {
        guard let dirPath = args.first else {
            FileHandle.standardError.write(Data("usage: plumb-bench dash DATA_DIR [--now TIME | --live] [--frames N] [--gap S] [--width W] [--threads N] [--column-cache MB] [--page-cache MB] [--by-panel] [--memory] [NAME...]\n".utf8))
            return 2
        }
        var frames = 20, width = 160, gap = 0.0, live = false, byPanel = false, memory = false
        var columnCacheMB: Int? = nil
        var threads: Int? = nil
        var pageCacheMB = PageCache.defaultBudget >> 20          // as `plumb dash` keeps pages
        var now = Timestamp.nowMicros()
        var names: [String] = []
        var i = 1
        while i < args.count {
            switch args[i] {
            case "--frames": frames = Int(args[i + 1]) ?? frames; i += 2
            case "--width": width = Int(args[i + 1]) ?? width; i += 2
            case "--gap": gap = Double(args[i + 1]) ?? gap; i += 2
            case "--now": now = (try? Timestamp.parse(args[i + 1])) ?? now; i += 2
            case "--live": live = true; i += 1
            case "--by-panel": byPanel = true; i += 1
            case "--memory": memory = true; i += 1
            case "--column-cache": columnCacheMB = Int(args[i + 1]); i += 2
            case "--threads": threads = Int(args[i + 1]); i += 2
            case "--page-cache": pageCacheMB = Int(args[i + 1]) ?? pageCacheMB; i += 2
            default: names.append(args[i]); i += 1
            }
        }
        let boards: [Dashboard]
        do { boards = try ShippedDashboards.all(userDirectory: nil) } catch { print("error=\(error)"); return 1 }
        for board in boards where names.isEmpty || names.contains(board.name) {
            PageCache.shared.enable(budget: pageCacheMB << 20)     // each dashboard starts empty
            var engine = QueryEngine(directory: DataDirectory(dirPath), now: now)
            if let threads { engine.threads = threads }
            if let mb = columnCacheMB { engine.columnCache = mb > 0 ? ColumnCache(budget: mb << 20) : ColumnCache(budget: 0) }
            let session = DashSession(boards: boards, board: board.name, engine: engine, range: nil, filter: nil)
            var times: [Double] = []
            var first = 0.0
            for k in 0...frames {
                if k > 0 && gap > 0 { Thread.sleep(forTimeInterval: gap) }
                session.engine.now = live ? Timestamp.nowMicros() : now + Int64(k) * 2_000_000
                let t = DispatchTime.now().uptimeNanoseconds
                session.refresh(at: session.engine.now)
                _ = session.render(width: width, height: 60)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
                if k == 0 { first = ms } else { times.append(ms) }
                if k == 0 && memory {
                    print(String(format: "dashboard=%@ after_first_frame column_cache_mb=%.1f columns_kept=%d page_cache_mb=%.1f", board.name as NSString,
                                 Double(session.engine.columnCache?.bytes ?? 0) / 1048576, session.engine.columnCache?.kept ?? 0,
                                 Double(PageCache.shared.bytes) / 1048576))
                }
            }
            let sorted = times.sorted()
            guard !sorted.isEmpty else { continue }
            let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
            let c = session.engine.cache
            print(String(format: "dashboard=%@ range=%@ first_ms=%.1f median_ms=%.1f p99_ms=%.1f frames=%d kept_row_groups=%d hits=%d misses=%d rebuilds=%d",
                         board.name as NSString, session.range as NSString, first, sorted[sorted.count / 2], p99, sorted.count,
                         c?.count ?? 0, c?.hits ?? 0, c?.misses ?? 0, c?.rebuilds ?? 0))
            if byPanel {
                panels(board, boards: boards, dirPath, now: live ? nil : now, threads: threads, columnCacheMB: columnCacheMB, width: width, runs: max(1, frames))
            }
        }
        return 0
    }

    /// Each panel of `board` alone, as the first frame runs it: a fresh engine (empty caches;
    /// pages stay cached, as they would after the first panel), median of `runs`.
    static func panels(_ board: Dashboard, boards: [Dashboard], _ dirPath: String, now: Int64?, threads: Int?,
                       columnCacheMB: Int?, width: Int, runs: Int) {
        for (i, panel) in board.panels.enumerated() {
            var times: [Double] = []
            for _ in 0..<runs {
                var engine = QueryEngine(directory: DataDirectory(dirPath), now: now ?? Timestamp.nowMicros())
                if let threads { engine.threads = threads }
                if let mb = columnCacheMB { engine.columnCache = ColumnCache(budget: mb << 20) }
                let session = DashSession(boards: boards, board: board.name, engine: engine, range: nil, filter: nil)
                let frame = Frame(board: board, engine: session.engine, range: session.range, filter: nil, width: width)
                let t = DispatchTime.now().uptimeNanoseconds
                do { _ = try frame.result(panel) } catch { print("  panel=\(i) error=\(error)"); return }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
            }
            print(String(format: "  panel=%d median_ms=%.1f min_ms=%.1f title=%@", i, times.sorted()[times.count / 2], times.min()!, panel.title as NSString))
        }
    }
}
