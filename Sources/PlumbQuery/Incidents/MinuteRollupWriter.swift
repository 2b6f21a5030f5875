import Foundation
import PlumbStore

/// Keeps `rollups/` in step with the live segments: writes the minute rollup (`MinuteRollups`)
/// of each segment that has none and removes those of segments no longer live (compacted,
/// expired). `plumb serve` runs a round every few seconds on a background thread; a round costs
/// what one incident judgement over the new segments costs, once.
///
/// ```swift
/// let round = try MinuteRollupWriter(directory: dir).update()   // (written: 3, removed: 2)
/// ```
public final class MinuteRollupWriter: @unchecked Sendable {
    public let directory: DataDirectory
    /// Rollups this writer wrote or found whole; any other file is checked once (a crash may
    /// have left it empty: it is written without fsync).
    private var known: Set<String> = []
    private let lock = NSLock()

    private let stopped = NSCondition()
    private var stopping = false

    public init(directory: DataDirectory) { self.directory = directory }

    /// How far back from the newest span the spans of long requests may still land (a span is
    /// stamped with its start and written at its end); later ones make a reader read the row
    /// group again.
    static let lateSpans: Int64 = 10 * 60_000_000

    /// Runs a round every `every` seconds on a background thread of low priority until `stop`;
    /// a round's failure (say, a full disk) is reported once and the rounds go on.
    public func start(every: Double = 2, log: @escaping @Sendable (String) -> Void) {
        Thread.detachNewThread { [self] in
            Thread.current.name = "plumb-rollups"
            ThreadPriority.lower(by: 10)
            var lastError = ""
            while true {
                do { try update(limit: 64); lastError = "" } catch {
                    if "\(error)" != lastError { log("minute rollups: \(error)") }
                    lastError = "\(error)"
                }
                stopped.lock()
                if !stopping { _ = stopped.wait(until: Date().addingTimeInterval(every)) }
                let done = stopping
                stopped.unlock()
                if done { return }
            }
        }
    }

    public func stop() {
        stopped.lock(); stopping = true; stopped.broadcast(); stopped.unlock()
    }

    /// One round: at most `limit` rollups written (oldest segments first), stale ones removed.
    @discardableResult
    public func update(limit: Int = .max) throws -> (written: Int, removed: Int) {
        let view = try StoreReader(directory: directory).view().segmentsOnly
        let dir = directory.rollups
        try FileSystem.makeDirectory(dir)
        let names = FileSystem.list(dir)
        let present = Set(names.filter { $0.hasSuffix(".minutes") }.map { String($0.dropLast(".minutes".count)) })
        let live = Set(view.live.map(\.sha256))
        var removed = 0
        // Rollups of segments gone, and files a crash left half-written.
        for name in names where !name.hasSuffix(".minutes") || !live.contains(String(name.dropLast(".minutes".count))) {
            try? FileSystem.remove(dir + "/" + name)
            removed += 1
        }
        lock.lock(); defer { lock.unlock() }
        known.formIntersection(live)
        var written = 0
        for record in view.live.sorted(by: { $0.tsMin < $1.tsMin }) where !known.contains(record.sha256) {
            let path = MinuteRollups.file(dir, hash: record.sha256)
            if present.contains(record.sha256), (try? MinuteRollups.decodeAll(path, hash: record.sha256)) != nil {
                known.insert(record.sha256)
                continue
            }
            guard written < limit else { break }
            try write(record, view: view, to: path)
            known.insert(record.sha256)
            written += 1
        }
        return (written, removed)
    }

    /// Reads the segment's row groups as the detector would and writes their parts. Row groups
    /// that retention cuts into have no key and are left out (a reader reads them).
    func write(_ record: SegmentRecord, view: StoreView, to path: String) throws {
        var engine = QueryEngine(directory: directory)
        engine.view = view
        engine.minuteRollups = nil
        engine.threads = 1
        let prefix = record.sha256 + "#"
        var parts: [Int: MinutePart] = [:]
        try IncidentDetector.parts(engine, from: record.tsMin, until: record.tsMax + 1, whole: true,
                                   reuse: { !$0.hasPrefix(prefix) }, consume: { key, part in
            if let key, key.hasPrefix(prefix), let group = Int(key.dropFirst(prefix.count)) { parts[group] = part }
        })
        // Latencies stay beside the p95 in minutes another segment holds spans of, and in the
        // last minutes of the store, where spans of long requests still land.
        let minute = MinuteTable.minute
        let others = view.live.filter { $0.sha256 != record.sha256 && $0.tsMax >= record.tsMin && $0.tsMin <= record.tsMax }
        let settled = (view.live.map(\.tsMax).max() ?? .max) - Self.lateSpans
        let keep: (Int64) -> Bool = { m in
            let from = m * minute, to = from + minute - 1
            return to >= settled || others.contains { $0.tsMin <= to && $0.tsMax >= from }
        }
        // No fsync: a rollup lost or torn by a crash fails its checksum and is written again.
        let tmp = path + ".tmp"
        let file = try FileDescriptor(path: tmp, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try file.write(MinuteRollups.encode(hash: record.sha256, parts: parts, keepLatencies: keep))
        try FileSystem.rename(tmp, path)
    }
}
