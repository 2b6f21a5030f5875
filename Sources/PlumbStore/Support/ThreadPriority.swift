import CPlumbSupport

/// The calling thread's scheduling priority, for background work (compaction, rollups) that
/// must yield the cores to a proxy's requests.
///
/// ```swift
/// Thread.detachNewThread { ThreadPriority.lower(); compactForever() }
/// ```
public enum ThreadPriority {
    public static func lower(by nice: Int32 = 10) { _ = plumb_lower_thread_priority(nice) }
}
