import PlumbCore

/// Read-only view of the spans still in the log, for reader processes (`plumb query`, `plumb dash`)
/// that must see a span before it is cut into a segment. Never truncates or moves anything: a torn
/// tail is the writer's frame in progress.
extension WriteAheadLog {
    public struct Tail: Sendable {
        public var spans: [Span] = []
        /// Sequence numbers are missing: a publish may have released files after the catalog was
        /// read, so the caller reads the catalog again (a gap left by a failed write is real and
        /// stays after a re-read).
        public var missedPublish = false
    }

    /// Every span with a sequence number above `publishedSeq`, in sequence order.
    public static func tail(directory: String, after publishedSeq: UInt64) -> Tail {
        var out = Tail()
        var expected = publishedSeq + 1
        for entry in files(in: directory) {
            guard let bytes = try? FileSystem.readAll(directory + "/" + entry.name) else {
                out.missedPublish = true                       // released while we listed
                continue
            }
            guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic else { continue }
            var hr = ByteReader(bytes, from: 8)
            guard (try? hr.u32()) == version else { continue }
            _ = walkFrames(bytes, firstSeq: entry.firstSeq) { seq, batch in
                let end = seq + UInt64(batch.count)
                guard end > expected else { return }
                if seq > expected { out.missedPublish = true }
                let skip = Int(expected > seq ? expected - seq : 0)
                out.spans.append(contentsOf: batch[skip...])
                expected = end
            }
        }
        return out
    }
}
