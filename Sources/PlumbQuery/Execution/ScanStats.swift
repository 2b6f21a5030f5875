/// What a scan kept and skipped, for EXPLAIN and for tests of zone-map pruning.
public struct ScanStats: Sendable, Equatable {
    public var segments = 0
    public var segmentsSkipped = 0
    public var rowGroups = 0
    public var rowGroupsSkipped = 0
    /// Of those skipped, how many by their span-id filter (the zone maps let them through).
    public var rowGroupsSkippedByFilter = 0
    public var unpublishedRows = 0
    public var rowsRead = 0

    public init() {}
}
