import PlumbStore

extension StoreOptions {
    /// A store that publishes segments only when told (`sync()`) and never compacts on its own,
    /// so a test decides which spans land in which segment.
    ///
    /// ```swift
    /// let store = try SpanStore(directory: dir, options: .manual(rowGroupSize: 500))
    /// ```
    public static func manual(rowGroupSize: Int) -> StoreOptions {
        var o = StoreOptions()
        o.cutInterval = 3600; o.maintenanceInterval = 3600; o.compaction = false; o.rowGroupSize = rowGroupSize
        return o
    }
}
