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
        /// Bytes read from the log's files (their frames, not what recycled files hold beyond).
        public var bytesRead = 0
    }

    /// Every span with a sequence number above `publishedSeq`, in sequence order.
    public static func tail(directory: String, after publishedSeq: UInt64) -> Tail {
        var out = Tail()
        var expected = publishedSeq + 1
        for entry in files(in: directory) {
            // A file released while we listed (or cut short under us) is a publish we missed.
            guard var file = try? FrameFile(path: directory + "/" + entry.name) else {
                out.missedPublish = true
                continue
            }
            do {
                if try file.version() == version {         // else not a WAL file of this build: skipped
                    _ = try walkFrames(&file, firstSeq: entry.firstSeq, through: expected - 1) { seq, batch in
                        if seq > expected { out.missedPublish = true }
                        let skip = Int(expected > seq ? expected - seq : 0)
                        out.spans.append(contentsOf: batch[skip...])
                        expected = seq + UInt64(batch.count)
                    }
                }
            } catch {
                out.missedPublish = true                      // a read failed: look again
            }
            out.bytesRead += file.bytesRead
        }
        return out
    }
}
