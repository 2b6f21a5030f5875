#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The publish protocol for one segment: write it to `tmp/` under a provisional name and fsync;
/// then, holding the sequencer, take the next id, rename into `segments/`, fsync the directory and
/// insert the catalog row (the moment it becomes visible). The sequencer makes ids, file names
/// and the hash chain follow one order although the publisher and maintenance publish in parallel.
struct SegmentPublisher {
    let directory: DataDirectory
    let catalog: Catalog
    let rowGroupSize: Int
    let sequencer: PublishSequencer

    func publish(columns: [ColumnVector], walSeqMax: Int64, level: Int64,
                 bodyFile: NewBodyFile?, replacing: [Int64] = []) throws -> SegmentRecord {
        let tmp = temporaryPath()
        let written = try SegmentWriter.write(columns: columns, to: tmp, rowGroupSize: rowGroupSize)
        return try publish(written, at: tmp, walSeqMax: walSeqMax, level: level, bodyFile: bodyFile, replacing: replacing)
    }

    /// A provisional name in `tmp/` for a segment being written.
    func temporaryPath() -> String { directory.tmp + "/pending-\(UUID().uuidString).plseg" }

    /// Publishes a segment already written and fsynced at `tmp`.
    func publish(_ written: SegmentWriter.Written, at tmp: String, walSeqMax: Int64, level: Int64,
                 bodyFile: NewBodyFile?, replacing: [Int64] = []) throws -> SegmentRecord {
        let ts = written.footer.fileZones[SegmentSchema.index(of: "ts_start")!]
        guard case .int(let tsMin, let tsMax) = ts.bounds else { throw FormatError("segment without timestamps") }
        return try sequencer.withNextID { id in
            let name = DataDirectory.segmentFileName(id: id)
            try FileSystem.rename(tmp, directory.segment(name))
            try FileSystem.syncDirectory(directory.segments)
            return try catalog.publish(id: id, NewSegment(
                file: name, rows: Int64(written.footer.rowCount), bytes: Int64(written.bytes), tsMin: tsMin, tsMax: tsMax,
                sha256: written.sha256, walSeqMax: walSeqMax, level: level, bodyFile: bodyFile), replacing: replacing)
        }
    }
}

/// Hands out segment ids in order, one publish at a time.
final class PublishSequencer: @unchecked Sendable {
    private let lock = NSLock()
    private var next: Int64

    init(first: Int64) { next = first }

    /// Runs `body` with the next id; the id is used up only if `body` succeeds.
    func withNextID<T>(_ body: (Int64) throws -> T) throws -> T {
        lock.lock(); defer { lock.unlock() }
        let value = try body(next)
        next += 1
        return value
    }
}
