import PlumbCore

/// Read-only access to a data directory, safe while another process writes it. Sees what the
/// catalog has published; a segment that fails its checks is reported in `problems` and skipped.
///
/// ```swift
/// let reader = try StoreReader(directory: DataDirectory("./plumb-data"))
/// for span in try reader.spans(includeBodies: false) { print(span.spanID) }
/// ```
public final class StoreReader: @unchecked Sendable {
    public let directory: DataDirectory
    public let catalog: Catalog
    public private(set) var problems: [String] = []

    public struct NotADataDirectory: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "no Plumb data directory at \(path) (catalog.sqlite not found)" }
    }

    public init(directory: DataDirectory) throws {
        guard directory.exists else { throw NotADataDirectory(path: directory.path) }
        self.directory = directory
        catalog = try Catalog(path: directory.catalog, readOnly: true)
    }

    /// Live segments, opened. A file removed by a concurrent compaction makes it re-read the catalog.
    public func openSegments(from: Int64 = .min, to: Int64 = .max) throws -> [(record: SegmentRecord, reader: SegmentReader)] {
        for attempt in 0..<5 {
            let records = try catalog.liveSegments(from: from, to: to)
            var out: [(SegmentRecord, SegmentReader)] = []
            var vanished = false
            for r in records {
                let path = directory.segment(r.file)
                if !FileSystem.exists(path) { vanished = true; break }
                do { out.append((r, try SegmentReader(path: path))) } catch {
                    if !FileSystem.exists(path) { vanished = true; break }
                    problems.append("\(error) (segment set aside)")
                }
            }
            if !vanished || attempt == 4 { return out }
        }
        return []
    }

    /// The live span with id `id` (`from...to` narrows where to look), reading only the row
    /// groups whose span-id filter may hold it (all of them in format-1 segments).
    public func span(id: String, includeBodies: Bool = false, from: Int64 = .min, to: Int64 = .max) throws -> Span? {
        let cutoff = try catalog.retentionCutoff()
        let h = SplitBlockBloomFilter.hash(id)
        for (_, seg) in try openSegments(from: max(from, cutoff), to: to) {
            do {
                guard let c = seg.footer.columnIndex("span_id") else { continue }
                for g in seg.footer.rowGroups.indices where try seg.mayContain(spanIDHash: h, rowGroup: g) {
                    guard case .string(let all) = try seg.read(rowGroup: g, column: c).values, let row = all.firstIndex(of: id) else { continue }
                    let columns = try seg.allColumns(rowGroup: g)
                    let (spans, refs) = try SpanColumns.spans(from: columns.map { $0.slice(row..<row + 1) })
                    guard var span = spans.first, span.tsStart >= cutoff else { continue }
                    if includeBodies, let ref = refs[0] { (span.requestBody, span.responseBody) = BodyReader(directory: directory).read(ref) }
                    return span
                }
            } catch {
                problems.append("\(error) (segment set aside)")
            }
        }
        return nil
    }

    /// Every live span, segment by segment, with `ts_start` in `from...to` and matching `filter`.
    /// Bodies are read only when asked for, and only for the spans returned.
    public func spans(includeBodies: Bool = false, from: Int64 = .min, to: Int64 = .max,
                      where filter: ((Span) -> Bool)? = nil) throws -> [Span] {
        var out: [Span] = []
        let bodies = BodyReader(directory: directory)
        let cutoff = try catalog.retentionCutoff()
        let from = max(from, cutoff)
        for (_, seg) in try openSegments(from: from, to: to) {
            do {
                let (spans, refs) = try SpanColumns.spans(from: try seg.allColumns())
                for i in spans.indices where spans[i].tsStart >= from && spans[i].tsStart <= to && filter?(spans[i]) != false {
                    var span = spans[i]
                    if includeBodies, let ref = refs[i] { (span.requestBody, span.responseBody) = bodies.read(ref) }
                    out.append(span)
                }
            } catch {
                problems.append("\(error) (segment set aside)")
            }
        }
        return out
    }
}

/// Reads bodies by reference, keeping body files open; a missing (expired) file reads as no body.
public final class BodyReader: @unchecked Sendable {
    let directory: DataDirectory
    private var open: [Int64: FileDescriptor] = [:]

    public init(directory: DataDirectory) { self.directory = directory }

    static let maxOpen = 8

    public func read(_ ref: BodyRef) -> (String?, String?) {
        let f: FileDescriptor
        if let existing = open[ref.file] { f = existing } else {
            // Readers go through body files in order: a few open at once is enough, and a
            // long-lived reader (an exporter) must not hold every file it ever read.
            if open.count >= Self.maxOpen { open.removeAll() }
            guard let opened = try? FileDescriptor.openForReading(directory.body(BodyFile.fileName(id: ref.file))),
                  let head = try? opened.read(at: 0, count: BodyFile.headerSize),
                  Array(head[0..<8]) == BodyFile.magic, head[8] == UInt8(BodyFile.version), head[9...11].allSatisfy({ $0 == 0 })
            else { return (nil, nil) }
            open[ref.file] = opened
            f = opened
        }
        guard let (req, resp) = try? BodyFile.read(ref, file: f) else { return (nil, nil) }
        return (req, resp)
    }
}
