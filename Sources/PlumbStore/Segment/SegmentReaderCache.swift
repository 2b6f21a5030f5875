import Foundation

/// Open segment readers kept across queries in a long-running process (`plumb serve` answering
/// `/_plumb/query`, the dashboard refreshing), so a query does not re-read and re-check every
/// footer. Segment files never change once published; a reader is reused only while its path
/// still names the same file (device and inode), and readers of segments no longer live are
/// dropped at each snapshot (closing their files).
public final class SegmentReaderCache: @unchecked Sendable {
    public static let shared = SegmentReaderCache()

    private let lock = NSLock()
    private var readers: [String: (reader: SegmentReader, identity: FileIdentity)] = [:]

    struct FileIdentity: Equatable { let device: UInt64; let inode: UInt64; let size: Int64 }

    static func identity(_ path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size))
    }

    /// A reader for `path`: the cached one if the file is the same, else a freshly opened one.
    public func reader(_ path: String) throws -> SegmentReader {
        let id = Self.identity(path)
        lock.lock()
        if let hit = readers[path], let id, hit.identity == id { lock.unlock(); return hit.reader }
        lock.unlock()
        let r = try SegmentReader(path: path)
        if let id {
            lock.lock(); readers[path] = (r, id); lock.unlock()
        }
        return r
    }

    /// Forgets readers whose paths are not in `live`.
    public func retain(only live: Set<String>) {
        lock.lock()
        readers = readers.filter { live.contains($0.key) }
        lock.unlock()
    }
}
