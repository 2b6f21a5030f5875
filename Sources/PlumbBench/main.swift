import Foundation
import PlumbCore
import PlumbStore

/// `plumb-bench query ...`: see `QueryBench`.
/// `plumb-bench ingest FILE.jsonl DATA_DIR [--chunk N] [--batch] [--breakdown]`: parses the spans
/// chunk by chunk (not timed), times one producer appending each chunk until every span of it is
/// published in a segment, and prints the rate and the bytes per span of the segment files
/// (bodies apart), before and after compaction.
/// Run by tools/bench/store_bench.sh; figures are printed, never asserted.
nonisolated(unsafe) var pool = SpanInterner()

/// Up to `limit` spans starting at byte `from`; returns them and the offset after the last line read.
func loadChunk(_ path: String, from: Int, limit: Int) throws -> ([Span], Int) {
    let f = try FileDescriptor.openForReading(path)
    let size = try f.size()
    var spans: [Span] = []
    var offset = from
    var consumed = from
    var carry: [UInt8] = []
    while offset < size && spans.count < limit {
        let n = min(16 << 20, size - offset)
        var chunk = carry
        chunk.append(contentsOf: try f.read(at: offset, count: n))
        offset += n
        var start = 0
        try chunk.withUnsafeBufferPointer { buf in
            for i in 0..<buf.count where buf[i] == 0x0A && spans.count < limit {
                let line = UnsafeBufferPointer(rebasing: buf[start..<i])
                start = i + 1
                consumed = offset - chunk.count + start
                if line.isEmpty { continue }
                spans.append(pool.intern(try Span(jsonBytes: line)))
            }
        }
        carry = Array(chunk[start...])
    }
    return (spans, consumed)
}

/// One writer: span by span (as the proxy appends), or in batches of 1,024 (as importers do).
@inline(never) func appendAll(_ spans: [Span], to store: SpanStore, batched: Bool) {
    if batched {
        var i = 0
        while i < spans.count {
            let end = min(spans.count, i + 1024)
            try? store.appendWaiting(Array(spans[i..<end]))
            i = end
        }
    } else {
        // By index: a for-in loop would copy each span out of the array (a retain and release
        // per string), which a producer handing over its own span does not pay.
        for i in spans.indices { store.append(spans[i]) }
    }
}

@inline(never) func copySpans(_ spans: [Span]) -> Double {
    let t = Date()
    var copy: [Span] = []
    copy.reserveCapacity(spans.count)
    for s in spans { copy.append(s) }
    return Date().timeIntervalSince(t)
}

func rss() -> String {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "?" }
    return s.split(separator: "\n").first { $0.hasPrefix("VmHWM") }.map { String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces) } ?? "?"
}

let args = CommandLine.arguments
if args.count >= 2 && args[1] == "dash" {
    MemoryTuning.apply(arenas: 8)
    exit(DashBench.run(Array(args.dropFirst(2))))
}
if args.count >= 2 && args[1] == "query" {
    MemoryTuning.apply(arenas: 8)
    exit(QueryBench.run(Array(args.dropFirst(2))))
}
MemoryTuning.apply()
guard args.count >= 4, args[1] == "ingest" else {
    FileHandle.standardError.write(Data("usage: plumb-bench ingest FILE.jsonl DATA_DIR [--chunk N] [--repeat N] [--batch] [--breakdown] [--no-commit-delay]\n".utf8))
    exit(2)
}
let limitFirstChunk = args.firstIndex(of: "--chunk").flatMap { Int(args[$0 + 1]) } ?? 1_000_000
let loadStart = Date()
let (spans, firstChunkEnd) = try loadChunk(args[2], from: 0, limit: limitFirstChunk)
let loadSecs = Date().timeIntervalSince(loadStart)
print("loaded the first \(spans.count) spans in \(String(format: "%.1f", loadSecs)) s (JSON parsing is never timed)")

if args.contains("--breakdown") {
    // Where a segment's encoding time goes, column by column (one thread, no I/O).
    var t = Date()
    var records = ByteWriter(capacity: spans.count * 300)
    for s in spans { SpanRecord.encode(s, into: &records) }
    print(String(format: "wal encode: %.3f s (%d bytes/span)", Date().timeIntervalSince(t), records.count / spans.count))
    t = Date()
    var packedBytes = 0
    for start in stride(from: 0, to: records.count, by: 4 << 20) {
        packedBytes += LZ4.compress(Array(records.bytes[start..<min(records.count, start + (4 << 20))]), acceleration: 4).count
    }
    print(String(format: "wal lz4: %.3f s (%.1f bytes/span)", Date().timeIntervalSince(t), Double(packedBytes) / Double(spans.count)))
    t = Date()
    _ = CRC32C.checksum(records.bytes)
    print(String(format: "wal crc: %.3f s", Date().timeIntervalSince(t)))
    t = Date()
    print(String(format: "span copy: %.3f s (%d bytes per Span)", copySpans(spans), MemoryLayout<Span>.stride))
    t = Date()
    let columns = SpanColumns.columns(of: spans)
    print(String(format: "transpose: %.3f s", Date().timeIntervalSince(t)))
    var total = 0.0
    for (i, c) in SegmentSchema.columns.enumerated() {
        t = Date()
        var bytes = 0
        for start in stride(from: 0, to: spans.count, by: 65_536) {
            let slice = columns[i].slice(start..<min(spans.count, start + 65_536))
            bytes += PageCodec.encodeWithZone(slice, type: c.type).page.count
        }
        let dt = Date().timeIntervalSince(t)
        total += dt
        print(String(format: "  %-20@ %.3f s  %8.2f bytes/span", c.name as NSString, dt, Double(bytes) / Double(spans.count)))
    }
    print(String(format: "encode total: %.3f s", total))
    exit(0)
}
let dir = DataDirectory(args[3])
var options = StoreOptions()
options.compaction = false
options.maintenanceInterval = 1e9
// For a side-by-side check of the WAL's 2 ms gathering window: --no-commit-delay turns it off.
if args.contains("--no-commit-delay") { options.walCommitDelay = 0 }
// WAL frames: LZ4 only while the disk is the bottleneck (default), or --wal-lz4 / --wal-raw.
if args.contains("--wal-lz4") { options.walCompression = .always }
if args.contains("--wal-raw") { options.walCompression = .never }
let store = try SpanStore(directory: dir, options: options)
let batched = args.contains("--batch")
let chunkSize = args.firstIndex(of: "--chunk").flatMap { Int(args[$0 + 1]) } ?? 1_000_000

// Spans are parsed in chunks (untimed, with the store idle), then each chunk is timed from the
// first append until every span of it is published in a segment.
var ingestSeconds = 0.0, appendSeconds = 0.0, total = spans.count
nonisolated(unsafe) var cpuSeconds = 0.0, sysSeconds = 0.0, faults = 0
func usage() -> (cpu: Double, sys: Double, faults: Int) {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    let sys = Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    return (Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + sys, sys, u.ru_minflt)
}
/// Returns (append seconds, append-until-published seconds).
/// With `PLUMB_PERF_CTL=FIFO`, the timed part is bracketed for `perf record -D -1 --control fifo:FIFO`,
/// so a profile holds ingest alone and none of the JSON parsing.
let perfControl = ProcessInfo.processInfo.environment["PLUMB_PERF_CTL"].flatMap { FileHandle(forWritingAtPath: $0) }
func ingest(_ chunk: [Span]) throws -> (Double, Double) {
    perfControl?.write(Data("enable\n".utf8))
    let u0 = usage()
    defer {
        perfControl?.write(Data("disable\n".utf8))
        let u1 = usage()
        cpuSeconds += u1.cpu - u0.cpu; sysSeconds += u1.sys - u0.sys; faults += u1.faults - u0.faults
    }
    let t0 = Date()
    appendAll(chunk, to: store, batched: batched)
    let appended = Date().timeIntervalSince(t0)
    try store.sync()
    return (appended, Date().timeIntervalSince(t0))
}
(appendSeconds, ingestSeconds) = try ingest(spans)
// --repeat N: the first chunk N more times, each rate printed (for side-by-side runs of two
// builds: many samples from one parse; the store does not mind repeated span ids).
let repeats = args.firstIndex(of: "--repeat").flatMap { Int(args[$0 + 1]) } ?? 0
var rates: [Double] = []
for _ in 0..<repeats {
    let (a, i) = try ingest(spans)
    appendSeconds += a; ingestSeconds += i
    total += spans.count
    rates.append(Double(spans.count) / i)
}
if !rates.isEmpty {
    print("repeats: " + rates.map { String(format: "%.0f", $0) }.joined(separator: " ")
          + String(format: " spans/s; median %.0f", rates.sorted()[rates.count / 2]))
}
if spans.count == limitFirstChunk && repeats == 0 {
    var offset = firstChunkEnd
    while true {
        let (more, next) = try loadChunk(args[2], from: offset, limit: chunkSize)
        if more.isEmpty { break }
        let (a, i) = try ingest(more)
        appendSeconds += a; ingestSeconds += i
        total += more.count
        offset = next
    }
}
let stats = store.stats
print(String(format: "cpu: %.2f s of CPU during ingest (%.2f µs per span, %.0f%% of 2 cores; %.2f s in the kernel, %d page faults)",
             cpuSeconds, cpuSeconds / Double(total) * 1e6, cpuSeconds / ingestSeconds / 2 * 100, sysSeconds, faults))
print(String(format: "append: %.2f s (%.0f spans/s producer side, %@)", appendSeconds, Double(total) / appendSeconds, batched ? "batches of 1,024" : "span by span"))
print(String(format: "ingest: %.2f s, %.0f spans/s (append until published; %d spans, %d WAL group commits (%d with LZ4), %d segments, %d dropped)",
             ingestSeconds, Double(total) / ingestSeconds, total, stats.walBatches, stats.walCompressedBatches, stats.segmentsPublished, stats.dropped))
func segmentBytes() throws -> Int64 { try Catalog(path: dir.catalog, readOnly: true).liveSegments().reduce(0) { $0 + $1.bytes } }
let before = try segmentBytes()
print(String(format: "segments: %d bytes, %.2f bytes/span", before, Double(before) / Double(total)))
try store.close()

// Compaction into ~2M-row segments, as the serving store does in the background.
var compacting = options
compacting.compaction = true
let again = try SpanStore(directory: dir, options: compacting)
let tc = Date()
again.maintainNow()
let after = try segmentBytes()
print(String(format: "compacted: %d bytes, %.2f bytes/span (%d segments, %.1f s)", after, Double(after) / Double(total),
             try Catalog(path: dir.catalog, readOnly: true).liveSegments().count, Date().timeIntervalSince(tc)))
try again.close()
print("peak RSS: \(rss())")
