import Foundation
import Glibc
import PlumbCore
import PlumbStore

/// The bench's input spans, chunk by chunk (never timed). The first pass parses the JSON lines
/// (about 10 s a million spans here) and keeps them beside the input as WAL records
/// (`FILE.jsonl.records`: a little-endian u32 length, then the record, for each span); later
/// passes and later runs decode those instead (well under a second a million), so an ingest run
/// of 10,000,000 spans can be repeated for a median.
///
/// ```swift
/// var source = try SpanSource(path: "spans.jsonl")
/// while let chunk = try source.next(limit: 1_000_000) { ingest(chunk) }
/// source.rewind()
/// ```
struct SpanSource {
    let path: String
    var cachePath: String { path + ".records" }
    private(set) var fromCache: Bool
    private var offset = 0
    private var cacheWriter: FileDescriptor?
    private var pool = SpanInterner()

    init(path: String) throws {
        self.path = path
        fromCache = FileManager.default.fileExists(atPath: path + ".records")
        if !fromCache {
            cacheWriter = try FileDescriptor(path: cachePath + ".tmp", flags: O_WRONLY | O_CREAT | O_TRUNC)
        }
    }

    /// Starts again at the first span (from the cache, which the first full pass completed).
    mutating func rewind() {
        offset = 0
        fromCache = FileManager.default.fileExists(atPath: cachePath)
    }

    /// Up to `limit` spans, or nil at the end of the input.
    mutating func next(limit: Int) throws -> [Span]? {
        let spans = fromCache ? try nextFromCache(limit: limit) : try nextFromJSON(limit: limit)
        if spans.isEmpty && cacheWriter != nil {
            // The whole input parsed: the cache is complete and may be used from now on.
            cacheWriter = nil
            try FileSystem.rename(cachePath + ".tmp", cachePath)
        }
        return spans.isEmpty ? nil : spans
    }

    private mutating func nextFromJSON(limit: Int) throws -> [Span] {
        let spans = try parseJSON(limit: limit)
        if let w = cacheWriter {
            var out = ByteWriter(capacity: spans.count * 300)
            var record = ByteWriter(capacity: 4096)
            for s in spans {
                record.bytes.removeAll(keepingCapacity: true)
                SpanRecord.encode(s, into: &record)
                out.u32(UInt32(record.count))
                out.bytes += record.bytes
            }
            try w.write(out.bytes)
        }
        return spans
    }

    private mutating func nextFromCache(limit: Int) throws -> [Span] {
        let f = try FileDescriptor.openForReading(cachePath)
        let size = try f.size()
        var spans: [Span] = []
        spans.reserveCapacity(limit)
        while offset < size && spans.count < limit {
            let window = try f.read(at: offset, count: min(64 << 20, size - offset))
            var r = ByteReader(window)
            var used = 0
            while spans.count < limit && window.count - used >= 4 {
                let n = window.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: used, as: UInt32.self).littleEndian) }
                guard window.count - used - 4 >= n else { break }
                r = ByteReader(window, from: used + 4, to: used + 4 + n)
                spans.append(pool.intern(try SpanRecord.decode(&r)))
                used += 4 + n
            }
            guard used > 0 else { throw FormatError("\(cachePath): a record longer than 64 MiB at byte \(offset)") }
            offset += used
        }
        return spans
    }

    /// Up to `limit` spans parsed from the JSON lines at `offset`; moves `offset` past the last line read.
    private mutating func parseJSON(limit: Int) throws -> [Span] {
        let f = try FileDescriptor.openForReading(path)
        let size = try f.size()
        var spans: [Span] = []
        var read = offset
        var carry: [UInt8] = []
        while read < size && spans.count < limit {
            let n = min(16 << 20, size - read)
            var chunk = carry
            chunk.append(contentsOf: try f.read(at: read, count: n))
            read += n
            var start = 0
            try chunk.withUnsafeBufferPointer { buf in
                for i in 0..<buf.count where buf[i] == 0x0A && spans.count < limit {
                    let line = UnsafeBufferPointer(rebasing: buf[start..<i])
                    start = i + 1
                    offset = read - chunk.count + start
                    if line.isEmpty { continue }
                    spans.append(pool.intern(try Span(jsonBytes: line)))
                }
            }
            carry = Array(chunk[start...])
        }
        return spans
    }
}
