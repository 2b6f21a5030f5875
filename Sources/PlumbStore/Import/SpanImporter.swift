import Foundation
import PlumbCore

/// `plumb import`: reads span-schema-v1 JSON lines, appends every good line to the store and
/// reports each bad one by line number and reason (then skips it).
///
/// ```swift
/// let summary = try SpanImporter(store: store).run(path: "spans.jsonl") { line, reason in
///     print("line \(line): \(reason)")
/// }
/// ```
/// The file is read in pieces of whole lines on the calling thread; `threads` threads decode
/// them (`SpanLineDecoder`, and `Span(jsonBytes:)` for every line it declines) into WAL records,
/// which are stored, and their errors reported, in file order. One thread or several, the store
/// receives the same records in the same order.
public struct SpanImporter {
    public struct Summary: Sendable {
        public var lines = 0
        public var imported = 0
        public var skipped = 0
        public var bytes = 0
    }

    public struct Progress: Sendable {
        public var bytesRead: Int
        public var totalBytes: Int
        public var imported: Int
    }

    let store: SpanStore
    /// A longer line is reported and skipped without being kept (a span's bodies are cut far
    /// below this when recorded; a file can say anything).
    public var maxLineBytes = 64 << 20
    /// Decoding threads; 1 decodes on the calling thread.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Bytes read at a time: a piece holds the whole lines among them.
    public var readBytes = 4 << 20

    public init(store: SpanStore) { self.store = store }

    /// - Parameters:
    ///   - checkpointEvery: after about this many spans, wait until they are durable (WAL) and call
    ///     `onCheckpoint(line, spans)`: every line up to `line` is safe even if the process dies.
    /// `path` "-" reads standard input (a pipe: progress then has no total).
    public func run(path: String, progress: ((Progress) -> Void)? = nil,
                    checkpointEvery: Int? = nil, onCheckpoint: ((Int, Int) -> Void)? = nil,
                    onError: (Int, String) -> Void) throws -> Summary {
        let file = path == "-" ? FileDescriptor.standardInput() : try FileDescriptor.openForReading(path)
        let total = file.isRegularFile ? try file.size() : 0
        var summary = Summary()
        var lastCheckpoint = 0
        func deliver(_ piece: DecodedPiece) throws {
            for (k, reason) in piece.errors { onError(summary.lines + k + 1, reason) }
            summary.lines += piece.lines
            summary.skipped += piece.errors.count
            try store.appendWaiting(piece.records, newestTs: piece.newestTs, bodiesDropped: piece.bodiesDropped)
            summary.imported += piece.records.count
            progress?(Progress(bytesRead: piece.endOffset, totalBytes: max(total, piece.endOffset), imported: summary.imported))
            if let every = checkpointEvery, summary.imported - lastCheckpoint >= every {
                try store.flush()
                lastCheckpoint = summary.imported
                onCheckpoint?(summary.lines, summary.imported)
            }
        }
        let maxBody = store.options.maxBodyBytes
        var reader = LineReader(file: file, readBytes: readBytes, maxLineBytes: maxLineBytes)
        if threads <= 1 {
            var decode = PieceDecoder(maxBodyBytes: maxBody, maxLineBytes: maxLineBytes)
            while let piece = try reader.next() { try deliver(decode(piece)) }
        } else {
            let lines = maxLineBytes
            let work = OrderedWork<LinePiece, DecodedPiece>(threads: threads, name: "plumb-import") {
                var decode = PieceDecoder(maxBodyBytes: maxBody, maxLineBytes: lines)
                return { decode($0) }
            }
            defer { work.close() }
            // Enough pieces in flight to keep every thread busy while the oldest is stored.
            let window = 2 * threads
            while let piece = try reader.next() {
                if work.pending >= window, let done = work.next() { try deliver(done) }
                work.submit(piece)
            }
            while let done = work.next() { try deliver(done) }
        }
        summary.bytes = reader.offset
        progress?(Progress(bytesRead: reader.offset, totalBytes: max(total, reader.offset), imported: summary.imported))
        if checkpointEvery != nil {
            try store.flush()
            onCheckpoint?(summary.lines, summary.imported)
        }
        return summary
    }
}

/// Whole lines of the file: `bytes` and where each line lies in them (`nil`: a line over the
/// limit, skipped unread).
struct LinePiece: Sendable {
    var bytes: [UInt8]
    var lines: [Range<Int>?]
    /// The file offset just past the piece.
    var endOffset: Int
}

/// A piece decoded: its records in line order, and the lines that failed (index in the piece,
/// reason).
struct DecodedPiece: Sendable {
    var records = SpanRecords()
    var errors: [(Int, String)] = []
    var lines = 0
    var newestTs = Int64.min
    var bodiesDropped = 0
    var endOffset = 0
}

/// Cuts a file into pieces of whole lines, a read at a time; a line longer than `maxLineBytes`
/// is passed over however many reads it spans, and only its number kept.
struct LineReader {
    let file: FileDescriptor
    let readBytes: Int
    let maxLineBytes: Int
    private(set) var offset = 0
    private var carry: [UInt8] = []
    private var skippingLongLine = false
    private var ended = false

    init(file: FileDescriptor, readBytes: Int, maxLineBytes: Int) {
        self.file = file
        self.readBytes = readBytes
        self.maxLineBytes = maxLineBytes
    }

    /// The next piece holding at least one line, or nil at the end of the file.
    mutating func next() throws -> LinePiece? {
        while !ended {
            let more = try file.readNext(max: readBytes)
            if more.isEmpty {
                ended = true
                if skippingLongLine || carry.count > maxLineBytes {
                    carry = []
                    return LinePiece(bytes: [], lines: [nil], endOffset: offset)
                }
                if carry.isEmpty { return nil }
                let last = LinePiece(bytes: carry, lines: [0..<carry.count], endOffset: offset)
                carry = []
                return last
            }
            // What is carried over holds no newline: only the new bytes are scanned.
            let scanFrom = carry.count
            var chunk = carry
            chunk.append(contentsOf: more)
            offset += more.count
            var lines: [Range<Int>?] = []
            var start = 0
            chunk.withUnsafeBufferPointer { buf in
                let base = buf.baseAddress!
                var i = scanFrom
                while i < buf.count, let hit = memchr(base + i, 0x0A, buf.count - i) {
                    let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if skippingLongLine || at - start > maxLineBytes { skippingLongLine = false; lines.append(nil) }
                    else { lines.append(start..<at) }
                    start = at + 1
                    i = at + 1
                }
            }
            carry = skippingLongLine ? [] : Array(chunk[start...])
            if carry.count > maxLineBytes { skippingLongLine = true; carry = [] }
            if !lines.isEmpty { return LinePiece(bytes: chunk, lines: lines, endOffset: offset) }
        }
        return nil
    }
}

/// Decodes pieces: the byte-level scanner first, `Span(jsonBytes:)` for what it declines (and
/// for every error's words).
struct PieceDecoder {
    private var scanner: SpanLineDecoder
    let maxBodyBytes: Int
    let maxLineBytes: Int

    init(maxBodyBytes: Int, maxLineBytes: Int) {
        scanner = SpanLineDecoder(maxBodyBytes: maxBodyBytes)
        self.maxBodyBytes = maxBodyBytes
        self.maxLineBytes = maxLineBytes
    }

    mutating func callAsFunction(_ piece: LinePiece) -> DecodedPiece {
        var out = DecodedPiece()
        // Records are shorter than their lines: room for all of them at once, never regrown.
        out.records.reserve(bytes: piece.bytes.count + 64 * piece.lines.count, records: piece.lines.count)
        out.lines = piece.lines.count
        out.endOffset = piece.endOffset
        piece.bytes.withUnsafeBufferPointer { buf in
            for (k, range) in piece.lines.enumerated() {
                guard let range else {
                    out.errors.append((k, "line is over \(maxLineBytes) bytes; skipped"))
                    continue
                }
                var end = range.upperBound
                if end > range.lowerBound && buf[end - 1] == 0x0D { end -= 1 }   // CRLF
                let line = UnsafeBufferPointer(rebasing: buf[range.lowerBound..<end])
                if scanner.decode(line, into: &out.records) {
                    out.newestTs = max(out.newestTs, scanner.tsStart)
                    if scanner.droppedBody { out.bodiesDropped += 1 }
                    continue
                }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }     // a blank line
                do {
                    let (span, dropped) = SpanStore.cappingBodies(try Span(jsonBytes: line), maxBodyBytes: maxBodyBytes)
                    out.records.append(span)
                    out.newestTs = max(out.newestTs, span.tsStart)
                    if dropped { out.bodiesDropped += 1 }
                } catch let e as JSONParseError {
                    out.errors.append((k, "invalid JSON: \(e.message) at column \(e.offset + 1)"))
                } catch {
                    out.errors.append((k, "\(error)"))
                }
            }
        }
        return out
    }
}
