import Foundation
import PlumbStore

/// `plumb-bench ingest ...`: see `IngestBench`; `plumb-bench query ...`: `QueryBench`;
/// `plumb-bench dash ...`: `DashBench`; `plumb-bench proxy-floor ...`: `ProxyFloor`. Figures are printed, never asserted.
let args = CommandLine.arguments
switch args.count >= 2 ? args[1] : "" {
case "dash":
    MemoryTuning.apply(arenas: 1)        // as `plumb dash` runs
    exit(DashBench.run(Array(args.dropFirst(2))))
case "query":
    MemoryTuning.apply(arenas: 8)
    exit(QueryBench.run(Array(args.dropFirst(2))))
case "export":
    exit(ExportBench.run(Array(args.dropFirst(2))))
case "streams":
    exit(StreamsBench.run(Array(args.dropFirst(2))))
case "proxy-floor":
    exit(ProxyFloor.run(Array(args.dropFirst(2))))
case "ingest":
    MemoryTuning.apply()
    exit(try IngestBench.run(Array(args.dropFirst(2))))
default:
    FileHandle.standardError.write(Data("usage: plumb-bench ingest|query|dash|export|streams|proxy-floor ...\n".utf8))
    exit(2)
}
