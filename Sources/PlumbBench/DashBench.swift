import Foundation
import PlumbCore
import PlumbDash
import PlumbQuery
import PlumbStore

/// `plumb-bench dash DATA_DIR [--now TIME] [--frames 20] [--width 160] [NAME...]`: renders each
/// dashboard's frame repeatedly in process (as the terminal UI refreshes it) and prints the
/// median and p99 time per frame. Figures only, no assertions.
enum DashBench {
    static func run(_ args: [String]) -> Int32 {
        guard let dirPath = args.first else {
            FileHandle.standardError.write(Data("usage: plumb-bench dash DATA_DIR [--now TIME] [--frames N] [--width W] [NAME...]\n".utf8))
            return 2
        }
        var frames = 20, width = 160
        var now = Timestamp.nowMicros()
        var names: [String] = []
        var i = 1
        while i < args.count {
            switch args[i] {
            case "--frames": frames = Int(args[i + 1]) ?? frames; i += 2
            case "--width": width = Int(args[i + 1]) ?? width; i += 2
            case "--now": now = (try? Timestamp.parse(args[i + 1])) ?? now; i += 2
            default: names.append(args[i]); i += 1
            }
        }
        let boards: [Dashboard]
        do { boards = try ShippedDashboards.all(userDirectory: nil) } catch { print("error=\(error)"); return 1 }
        let engine = QueryEngine(directory: DataDirectory(dirPath), now: now)
        for board in boards where names.isEmpty || names.contains(board.name) {
            let frame = Frame(board: board, engine: engine, range: board.range, filter: nil, width: width)
            var times: [Double] = []
            for k in 0..<(frames + 1) {
                let t = DispatchTime.now().uptimeNanoseconds
                do { _ = try frame.render() } catch { print("dashboard=\(board.name) error=\(error)"); break }
                if k > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6) }
            }
            guard !times.isEmpty else { continue }
            let sorted = times.sorted()
            let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
            print(String(format: "dashboard=%@ range=%@ median_ms=%.1f p99_ms=%.1f frames=%d", board.name as NSString,
                         board.range as NSString, sorted[sorted.count / 2], p99, sorted.count))
        }
        return 0
    }
}
