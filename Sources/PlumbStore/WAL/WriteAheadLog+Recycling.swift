extension WriteAheadLog {
    /// Released log files kept for reuse, as `recycled-<n>.log` beside the live ones.
    ///
    /// Deleting a released file frees its page cache, and the next file's writes take fresh pages
    /// that the kernel must clear; on a VM that hands free memory back to the host (virtio-balloon
    /// free page reporting, as on this machine) each first touch is also a host fault. Measured
    /// on 10M spans with raw frames: 8–11 s of the 23–26 s of ingest CPU in the kernel, most of it
    /// copying into fresh page-cache pages. Overwriting a recycled file reuses cached pages, and
    /// its blocks are already allocated, so fdatasync has no extent metadata to commit either
    /// (PostgreSQL recycles WAL segments and RocksDB log files for the same reasons).
    ///
    /// ```swift
    /// WriteAheadLog.Recycling.put(dir + "/wal-…1.log", directory: dir, id: 1)   // from release
    /// WriteAheadLog.Recycling.take(directory: dir, as: dir + "/wal-…9.log")     // true: reuse it
    /// ```
    public enum Recycling {
        /// Kept while they hold less than this in all (as many as there were memtables in flight
        /// at the last burst: a 10M-span run peaks near 1 GiB of WAL at 270 bytes a span), and at
        /// most `keep` of them; the rest are deleted. PostgreSQL's default `max_wal_size` is 1 GB.
        static let keepBytes = 1 << 30
        static let keep = 32
        static let prefix = "recycled-"

        static func names(in directory: String) -> [String] {
            FileSystem.list(directory).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".log") }.sorted()
        }

        /// Moves a released file aside for reuse, or deletes it when enough are kept.
        static func put(_ path: String, directory: String, id: UInt64) {
            let kept = names(in: directory)
            let bytes = kept.reduce(FileSystem.fileSize(path) ?? 0) { $0 + (FileSystem.fileSize(directory + "/" + $1) ?? 0) }
            if kept.count < keep, bytes <= keepBytes,
               (try? FileSystem.rename(path, directory + "/" + prefix + String(id) + ".log")) != nil { return }
            try? FileSystem.remove(path)
        }

        /// Renames a kept file to `path` (the caller then overwrites it); false when none is kept.
        static func take(directory: String, as path: String) -> Bool {
            for name in names(in: directory) {
                if (try? FileSystem.rename(directory + "/" + name, path)) != nil { return true }
            }
            return false
        }
    }
}
