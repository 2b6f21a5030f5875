#if canImport(Glibc)
import Glibc
#endif

/// The layout of a Plumb data directory.
///
/// ```
/// plumb-data/
///   LOCK                 held (flock) by the one writing process
///   catalog.sqlite       SQLite catalog, WAL mode
///   keys.generation      a word `plumb keys` rewrites after each key change (`KeysGeneration`)
///   wal/                 write-ahead log files
///   segments/            published columnar segment files
///   bodies/              LZ4 body files
///   tmp/                 files being written; emptied when a writer opens
///   quarantine/          segments that failed their checksums, set aside by the writer
///   rollups/             minute and partial rollups of the live segments (derived; safe to delete)
/// ```
public struct DataDirectory: Sendable {
    public let path: String

    public init(_ path: String) {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        self.path = p
    }

    public var catalog: String { path + "/catalog.sqlite" }
    public var wal: String { path + "/wal" }
    public var segments: String { path + "/segments" }
    public var bodies: String { path + "/bodies" }
    public var tmp: String { path + "/tmp" }
    /// Derived data written beside the segments to speed up readers (rollups); any of
    /// it may be deleted at any time.
    public var rollups: String { path + "/rollups" }
    public var lock: String { path + "/LOCK" }
    /// Segments that failed their checks, kept for inspection (never read, never deleted).
    public var quarantine: String { path + "/quarantine" }

    public func segment(_ file: String) -> String { segments + "/" + file }
    public func body(_ file: String) -> String { bodies + "/" + file }

    public static func segmentFileName(id: Int64) -> String {
        let s = String(id)
        return "seg-" + String(repeating: "0", count: max(0, 10 - s.count)) + s + ".plseg"
    }

    /// Creates the directory and its folders owner-only (0700; the catalog is made 0600 by
    /// `SQLiteDatabase`, and SQLite gives its -wal and -shm files the catalog's mode).
    /// Returns one line of warning when folders that were already there let others in.
    @discardableResult
    public func create() throws -> String? {
        var wide: [String] = []
        for d in [path, wal, segments, bodies, tmp, rollups] {
            if let mode = FileSystem.mode(d), mode & 0o077 != 0 {
                let octal = String(mode, radix: 8)
                wide.append("\(d) " + String(repeating: "0", count: max(0, 4 - octal.count)) + octal)
            }
            try FileSystem.makeDirectory(d)
        }
        guard !wide.isEmpty else { return nil }
        return "data directory \(path) can be read by other local users (mode \(wide.joined(separator: ", "))); it holds every prompt and completion: chmod -R go-rwx \(path)"
    }

    public var exists: Bool { FileSystem.exists(catalog) }
}

/// An exclusive `flock` on the data directory's LOCK file: one writer at a time.
public final class WriterLock: @unchecked Sendable {
    private let fd: Int32

    public struct Busy: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "data directory \(path) is already open for writing by another plumb process (plumb serve or plumb import)"
        }
    }

    public init(directory: DataDirectory) throws {
        fd = open(directory.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOError(operation: "open", path: directory.lock, code: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Busy(path: directory.path)
        }
    }

    private var released = false

    /// Gives the lock up (idempotent); a closed store lets another writer in at once.
    public func release() {
        guard !released else { return }
        released = true
        flock(fd, LOCK_UN); close(fd)
    }

    deinit { release() }
}

