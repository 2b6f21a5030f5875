import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A word in shared memory that changes whenever a Plumb key does, so that `plumb serve` sees
/// a `plumb keys` change on its next call without asking SQLite on every call (that took two
/// `fcntl` locks and a mutex a call: half the cost of a keyed call). `plumb keys` writes a new
/// random value into `keys.generation`, beside the catalog, after each change commits; the
/// server maps the file and reads the word (a load, no system call) and reloads its keys from
/// the catalog when the word differs from the one it last saw.
///
/// ```swift
/// try KeysGeneration.bump(catalog: dir.catalog)          // after a key change commits
/// let g = KeysGeneration(catalog: dir.catalog)            // in the server
/// if g?.value != seen { reload() }
/// ```
public final class KeysGeneration: @unchecked Sendable {   // read-only after init; the word changes underneath
    private let fd: Int32
    private let word: UnsafeMutableRawPointer

    public static func path(catalog: String) -> String {
        (catalog as NSString).deletingLastPathComponent + "/keys.generation"
    }

    /// Maps the file (creating it, 0600, when the data directory has none yet); nil when it
    /// cannot (or it is a symbolic link or not a regular file), and the caller falls back to
    /// asking the catalog.
    public init?(catalog: String) {
        let fd = open(Self.path(catalog: catalog), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
              st.st_size >= 8 || ftruncate(fd, 8) == 0,
              let p = mmap(nil, 8, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            close(fd)
            return nil
        }
        self.fd = fd
        word = p
    }

    deinit {
        munmap(word, 8)
        close(fd)
    }

    /// The current generation (an aligned 8-byte load: never torn).
    public var value: UInt64 { word.load(as: UInt64.self) }

    /// Marks a change: a new random word (never through a symbolic link planted in its place).
    public static func bump(catalog: String) throws {
        let fd = open(path(catalog: catalog), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path(catalog: catalog)]) }
        defer { close(fd) }
        var v = UInt64.random(in: 1...UInt64.max)
        guard pwrite(fd, &v, 8, 0) == 8 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path(catalog: catalog)]) }
    }
}
