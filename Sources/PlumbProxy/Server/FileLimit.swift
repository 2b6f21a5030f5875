#if canImport(Glibc)
import Glibc
#endif

/// The open-file limit: each proxied call holds two descriptors (client and upstream), and a
/// server out of descriptors fails in odd places (the catalog, the WAL), so `plumb serve` raises
/// the soft limit to the hard one and keeps `max_connections` within what it allows.
///
/// ```swift
/// let allowed = FileLimit.raise()      // e.g. 1_048_576
/// ```
enum FileLimit {
    /// Raises the soft limit as far as the hard one; returns the soft limit now in force.
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)      // RLIM_INFINITY is all ones
    }

    /// Client connections the limit leaves room for: two descriptors each, and 256 for the store,
    /// the catalog and the rest.
    static func connections(forLimit files: Int) -> Int { max(16, (files - 256) / 2) }
}
