extension Dashboard {
    /// The panels' queries as `plumb dash` runs them over the dashboard's own range without a
    /// filter: what `plumb serve` keeps row groups' states of (`RollupWriter`), so that a cold
    /// dashboard merges states instead of reading every span.
    ///
    /// ```swift
    /// let queries = try ShippedDashboards.all(userDirectory: nil).flatMap(\.rollupQueries)
    /// ```
    public var rollupQueries: [String] {
        panels.filter { $0.visual != .incidents }.map { Template.expand($0.query, range: range, filter: nil) }
    }
}

extension ShippedDashboards {
    /// Every dashboard's `rollupQueries`, each once: the shipped ones and those in `userDirectory`
    /// (only the shipped ones when those do not load).
    public static func rollupQueries(userDirectory: String?) -> [String] {
        let boards = (try? all(userDirectory: userDirectory)) ?? (try? all(userDirectory: nil)) ?? []
        var seen = Set<String>()
        return boards.flatMap(\.rollupQueries).filter { seen.insert($0).inserted }
    }
}
