#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CPlumbSupport

/// An error from the file system, naming the operation, the path and the system's reason.
public struct IOError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32
    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
}

/// A POSIX file descriptor with whole-buffer reads and writes. Not shared between threads unless
/// only positional reads (`read(at:)`) are used.
public final class FileDescriptor: @unchecked Sendable {
    public let fd: Int32
    public let path: String

    /// Files are created owner-only: they hold prompts, completions and key fingerprints.
    public init(path: String, flags: Int32, mode: mode_t = 0o600) throws {
        let fd = open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw IOError(operation: "open", path: path, code: errno) }
        self.fd = fd; self.path = path
    }

    deinit { close(fd) }

    public static func openForReading(_ path: String) throws -> FileDescriptor {
        try FileDescriptor(path: path, flags: O_RDONLY)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            // At most 1 MiB a call: on this kind of VM one huge write (tens of MiB) into the page
            // cache measured several times slower than the same bytes in 1 MiB calls.
            let n = Glibc.write(fd, bytes.baseAddress! + done, min(bytes.count - done, 1 << 20))
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(operation: "write", path: path, code: errno)
            }
            done += n
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws in try write(b) }
    }

    /// Reads exactly `count` bytes at `offset`; throws on a short file.
    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        // Not zeroed first: every byte is read into, or the read throws.
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw IOError(operation: "read", path: path, code: errno)
                }
                if n == 0 { throw IOError(operation: "read (file shorter than expected)", path: path, code: EIO) }
                done += n
            }
            initialized = count
        }
    }

    /// Reads up to `max` bytes from the current position (files and pipes alike); empty at the end.
    public func readNext(max: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max)
        while true {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, max) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(operation: "read", path: path, code: errno)
            }
            out.removeLast(max - n)
            return out
        }
    }

    /// Standard input as a descriptor (not closed on deinit's behalf of anyone else: it is fd 0).
    public static func standardInput() -> FileDescriptor { FileDescriptor(adopting: dup(0), path: "<stdin>") }

    private init(adopting fd: Int32, path: String) { self.fd = fd; self.path = path }

    public var isRegularFile: Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    public func size() throws -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw IOError(operation: "stat", path: path, code: errno) }
        return Int(st.st_size)
    }

    public func sync() throws {
        guard fsync(fd) == 0 else { throw IOError(operation: "fsync", path: path, code: errno) }
    }

    /// Starts writing `count` bytes from `offset` back to disk without waiting, so that the
    /// `sync()` that makes them durable later waits for less. Best effort: errors show at `sync()`.
    public func startWriteback(offset: Int, count: Int) {
        _ = plumb_start_writeback(fd, Int64(offset), Int64(count))
    }

    public func syncData() throws {
        guard fdatasync(fd) == 0 else { throw IOError(operation: "fdatasync", path: path, code: errno) }
    }

    public func truncate(to length: Int) throws {
        guard ftruncate(fd, off_t(length)) == 0 else { throw IOError(operation: "truncate", path: path, code: errno) }
    }

    public func seek(to offset: Int) throws {
        guard lseek(fd, off_t(offset), SEEK_SET) >= 0 else { throw IOError(operation: "seek", path: path, code: errno) }
    }

    public func seekToEnd() throws {
        guard lseek(fd, 0, SEEK_END) >= 0 else { throw IOError(operation: "seek", path: path, code: errno) }
    }
}

/// Directory and path operations used by the store's publish protocol.
public enum FileSystem {
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isWritableDirectory(_ path: String) -> Bool { access(path, W_OK) == 0 }

    /// Creates `path` and any missing parents, owner-only (0700, whatever the umask: it can
    /// only take bits away). Existing directories are left as they are.
    public static func makeDirectory(_ path: String) throws {
        var prefix = ""
        for (i, comp) in path.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
            prefix = i == 0 ? String(comp) : prefix + "/" + comp
            if prefix.isEmpty || comp.isEmpty { continue }
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw IOError(operation: "mkdir", path: prefix, code: errno) }
        }
    }

    /// The permission bits of `path` (nil when it cannot be read).
    public static func mode(_ path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    public static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw IOError(operation: "rename", path: "\(from) -> \(to)", code: errno) }
    }

    public static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw IOError(operation: "unlink", path: path, code: errno) }
    }

    /// fsync on the directory itself, so a rename or unlink inside it is durable.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw IOError(operation: "open directory", path: path, code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw IOError(operation: "fsync directory", path: path, code: errno) }
    }

    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func fileSize(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_size)
    }

    public static func readAll(_ path: String) throws -> [UInt8] {
        let f = try FileDescriptor.openForReading(path)
        return try f.read(at: 0, count: try f.size())
    }

    /// Writes a whole file durably: temp file, fsync, rename, fsync directory.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let tmp = path + ".tmp"
        do {
            let f = try FileDescriptor(path: tmp, flags: O_WRONLY | O_CREAT | O_TRUNC)
            try f.write(bytes)
            try f.sync()
        }
        try rename(tmp, path)
        try syncDirectory(directory(of: path))
    }

    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
