import CPlumbSupport

/// Process-wide malloc settings. By default glibc serves allocations over 128 KiB from fresh
/// mmaps and unmaps them on free, so every memtable, column array and WAL buffer is faulted in
/// page by page again each cycle (about 8 µs a fault on this kind of VM: measured as 40% of
/// ingest CPU). Batch commands (import, query, the benchmarks) keep them in one heap that is not
/// trimmed below 1 GiB of slack, so the pipeline reuses warm memory.
///
/// A server cannot keep what a burst took: `plumb serve` at its maximum rate grew from 270 to
/// 550 MB run after run that way, with 75 MB in use. It uses `.server`: allocations of 1 MiB and
/// more (a span block, a large body) are their own mappings, given back when freed; the heap is
/// trimmed past 16 MiB of free space at its top, and `releaseFree()` gives back free pages
/// inside it (the store's maintenance thread calls it every run).
///
/// ```swift
/// MemoryTuning.apply()                 // first thing in main(), before threads start
/// MemoryTuning.apply(.server)          // plumb serve
/// MemoryTuning.releaseFree()           // now and then, off the request path
/// ```
public enum MemoryTuning {
    public enum Profile: Sendable {
        /// Keep freed memory warm for the next batch (import, query, benchmarks).
        case batch
        /// Give back what a burst took (plumb serve).
        case server
    }

    /// One arena serves `plumb serve` well (4 measured no faster on 2 cores); the query engine's
    /// scan threads allocate column arrays concurrently and want one arena each.
    public static func apply(_ profile: Profile = .batch, arenas: Int = 1) {
        switch profile {
        case .batch:
            // mmap only above 32 MiB (glibc's maximum on 64-bit); trim above 1 GiB free.
            plumb_tune_malloc(Int32(arenas), 32 << 20, 1 << 30, 256 << 20)
        case .server:
            plumb_tune_malloc(Int32(arenas), 1 << 20, 16 << 20, 1 << 20)
        }
    }

    /// Gives free heap pages back to the system (glibc's malloc_trim: it takes the arena lock
    /// for a walk of its free lists, so not on a request's path).
    public static func releaseFree() { _ = plumb_malloc_trim() }

    /// malloc's figures: bytes taken from the system, in use, and free inside the heap.
    public static func figures() -> (system: Int, inUse: Int, free: Int) {
        var system: UInt64 = 0, inUse: UInt64 = 0, free: UInt64 = 0
        plumb_malloc_figures(&system, &inUse, &free)
        return (Int(system), Int(inUse), Int(free))
    }
}
