import Foundation

/// Monotonic time for durations (wall time can jump; span timestamps use `Timestamp`).
///
/// ```swift
/// let t = Monotonic.nanos()
/// work()
/// print(Monotonic.millis(from: t, to: Monotonic.nanos()), "ms")
/// ```
public enum Monotonic {
    public static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public static func millis(from start: UInt64, to end: UInt64) -> Double {
        Double(end &- start) / 1e6
    }
}
