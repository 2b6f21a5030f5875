import PlumbCore

/// Placeholders a panel's query may use: `$range` (the time range and the `/` filter, as a WHERE
/// condition), `$filter` (the filter alone, `TRUE` without one), `$bucket` (an INTERVAL giving
/// about 60 points over the range) and `$seconds` (the range's length, for rates).
///
/// ```swift
/// Template.expand("SELECT count(*) / $seconds FROM spans WHERE $range", range: "1h", filter: "provider = 'openai'")
/// ```
public enum Template {
    public static func expand(_ query: String, range: String, filter: String?) -> String {
        let micros = PlumbConfig.parseDuration(range) ?? 3_600_000_000
        var condition = "ts_start >= now() - INTERVAL '\(micros / 1_000_000) seconds' AND ts_start <= now()"
        if let filter, !filter.isEmpty { condition = "(\(condition)) AND (\(filter))" }
        let only = filter.map { $0.isEmpty ? "TRUE" : "(\($0))" } ?? "TRUE"
        return query.replacingOccurrences(of: "$range", with: condition).replacingOccurrences(of: "$filter", with: only)
            .replacingOccurrences(of: "$bucket", with: "INTERVAL '\(bucket(micros)) seconds'")
            .replacingOccurrences(of: "$seconds", with: String(micros / 1_000_000))
    }

    /// About 60 buckets over the range, rounded to a familiar width.
    static func bucket(_ micros: Int64) -> Int64 {
        let want = max(1, micros / 1_000_000 / 60)
        let nice: [Int64] = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
        return nice.first { $0 >= want } ?? 86400
    }
}
