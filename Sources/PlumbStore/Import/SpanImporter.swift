import PlumbCore

/// `plumb import`: reads span-schema-v1 JSON lines, appends every good line to the store and
/// reports each bad one by line number and reason (then skips it).
///
/// ```swift
/// let summary = try SpanImporter(store: store).run(path: "spans.jsonl") { line, reason in
///     print("line \(line): \(reason)")
/// }
/// ```
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
    let batchSize = 8192
    /// A batch is also handed over once its lines add up to this (a few long bodies).
    let batchBytes = 64 << 20
    /// A longer line is reported and skipped without being kept (a span's bodies are cut far
    /// below this when recorded; a file can say anything).
    public var maxLineBytes = 64 << 20

    public init(store: SpanStore) { self.store = store }

    /// - Parameters:
    ///   - checkpointEvery: after about this many spans, wait until they are durable (WAL) and call
    ///     `onCheckpoint(line, spans)`: every line up to `line` is safe even if the process dies.
    /// `path` "-" reads standard input (a pipe: progress then has no total).
    public func run(path: String, progress: ((Progress) -> Void)? = nil,
                    checkpointEvery: Int? = nil, onCheckpoint: ((Int, Int) -> Void)? = nil,
                    onError: (Int, String) -> Void) throws -> Summary {
        var lastCheckpoint = 0
        let file = path == "-" ? FileDescriptor.standardInput() : try FileDescriptor.openForReading(path)
        let total = file.isRegularFile ? try file.size() : 0
        var summary = Summary()
        summary.bytes = total
        var batch: [Span] = []
        batch.reserveCapacity(batchSize)
        var carry: [UInt8] = []
        var offset = 0
        let chunkSize = 4 << 20
        var pendingBytes = 0
        var skippingLongLine = false
        func handle(_ line: UnsafeBufferPointer<UInt8>) {
            summary.lines += 1
            pendingBytes += line.count
            var end = line.count
            if end > 0 && line[end - 1] == 0x0D { end -= 1 }   // CRLF
            let body = UnsafeBufferPointer(rebasing: line[0..<end])
            if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            do {
                batch.append(try Span(jsonBytes: body))
            } catch let e as JSONParseError {
                summary.skipped += 1
                onError(summary.lines, "invalid JSON: \(e.message) at column \(e.offset + 1)")
            } catch {
                summary.skipped += 1
                onError(summary.lines, "\(error)")
            }
        }
        func skipLongLine() {
            summary.lines += 1
            summary.skipped += 1
            onError(summary.lines, "line is over \(maxLineBytes) bytes; skipped")
        }
        while true {
            let more = try file.readNext(max: chunkSize)
            if more.isEmpty { break }
            // What is carried over holds no newline: only the new bytes are scanned.
            let scanFrom = carry.count
            var chunk = carry
            chunk.append(contentsOf: more)
            offset += more.count
            var start = 0
            chunk.withUnsafeBufferPointer { buf in
                var i = scanFrom
                while i < buf.count {
                    if buf[i] == 0x0A {
                        if skippingLongLine || i - start > maxLineBytes { skippingLongLine = false; skipLongLine() }
                        else { handle(UnsafeBufferPointer(rebasing: buf[start..<i])) }
                        start = i + 1
                    }
                    i += 1
                }
            }
            carry = skippingLongLine ? [] : Array(chunk[start...])
            if carry.count > maxLineBytes { skippingLongLine = true; carry = [] }
            if batch.count >= batchSize || pendingBytes >= batchBytes {
                try store.appendWaiting(batch)
                summary.imported += batch.count
                batch.removeAll(keepingCapacity: true)
                pendingBytes = 0
                progress?(Progress(bytesRead: offset, totalBytes: total, imported: summary.imported))
            }
            if let every = checkpointEvery, summary.imported - lastCheckpoint >= every {
                try store.flush()
                lastCheckpoint = summary.imported
                onCheckpoint?(summary.lines, summary.imported)
            }
        }
        if skippingLongLine || carry.count > maxLineBytes { skippingLongLine = false; carry = []; skipLongLine() }
        if !carry.isEmpty { carry.withUnsafeBufferPointer { handle($0) } }
        try store.appendWaiting(batch)
        summary.imported += batch.count
        summary.bytes = offset
        progress?(Progress(bytesRead: offset, totalBytes: max(total, offset), imported: summary.imported))
        if checkpointEvery != nil {
            try store.flush()
            onCheckpoint?(summary.lines, summary.imported)
        }
        return summary
    }
}
