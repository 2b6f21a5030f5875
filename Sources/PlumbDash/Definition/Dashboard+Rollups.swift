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
    /// Every dashboard's `rollupQueries`, each once: the shipped ones and those in
    /// `userDirectory`. When those do not load, the shipped ones' only, with the reason (the
    /// file, line and problem) for the caller to report.
    public static func rollupQueries(userDirectory: String?) -> (queries: [String], problem: String?) {
        var problem: String? = nil
        let boards: [Dashboard]
        do { boards = try all(userDirectory: userDirectory) } catch {
            problem = "\(error)"
            boards = (try? all(userDirectory: nil)) ?? []
        }
        var seen = Set<String>()
        return (boards.flatMap(\.rollupQueries).filter { seen.insert($0).inserted }, problem)
    }
}
