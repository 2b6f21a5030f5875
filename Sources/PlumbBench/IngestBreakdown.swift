import Foundation
import PlumbCore
import PlumbStore

/// `plumb-bench ingest ... --breakdown`: where a segment's encoding time goes, column by column
/// (one thread, no I/O), for the first chunk of spans.
enum IngestBreakdown {
    static func run(_ spans: [Span]) {
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
    }

    @inline(never) static func copySpans(_ spans: [Span]) -> Double {
        let t = Date()
        var copy: [Span] = []
        copy.reserveCapacity(spans.count)
        for s in spans { copy.append(s) }
        return Date().timeIntervalSince(t)
    }
}
