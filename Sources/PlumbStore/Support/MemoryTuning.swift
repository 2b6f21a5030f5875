import CPlumbSupport

/// Process-wide malloc settings for the store's pipeline. By default glibc serves allocations
/// over 128 KiB from fresh mmaps and unmaps them on free, so every memtable, column array and
/// WAL buffer is faulted in page by page again each cycle (about 8 µs a fault on this kind of
/// VM: measured as 40% of ingest CPU). Keeping them in one heap that is not trimmed below
/// 1 GiB of slack lets the pipeline reuse warm memory.
///
/// ```swift
/// MemoryTuning.apply()      // first thing in main(), before threads start
/// ```
public enum MemoryTuning {
    /// One arena serves `plumb serve` well (4 measured no faster on 2 cores); the query engine's
    /// scan threads allocate column arrays concurrently and want one arena each.
    public static func apply(arenas: Int = 1) {
        // mmap only above 32 MiB (glibc's maximum on 64-bit); trim above 1 GiB free.
        plumb_tune_malloc(Int32(arenas), 32 << 20, 1 << 30, 256 << 20)
    }
}
