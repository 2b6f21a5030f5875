import PlumbCore
import PlumbQuery
import PlumbStore

/// Spend by column value and minute, read from the data directory with Plumb's own SQL.
struct StoreSpendHistory: SpendHistory {
    let directory: DataDirectory

    func spend(groupedBy column: String, since: Int64) throws -> [(value: String?, minute: Int64, nanos: Int64)] {
        let from = Timestamp.format(since, separator: " ", zulu: false)
        let sql = """
            SELECT \(column) AS k, date_trunc('minute', ts_start) AS m, sum(cost_usd) AS c FROM spans
            WHERE ts_start >= TIMESTAMP '\(from)' AND cost_usd > 0 GROUP BY k, m
            """
        return try QueryEngine(directory: directory).collect(sql).rows.compactMap { row in
            guard row.count == 3, case .timestamp(let m) = row[1] else { return nil }
            let value: String? = if case .string(let s) = row[0] { s } else { nil }
            let nanos: Int64 = if case .double(let d) = row[2] { Money.nanos(d) } else { 0 }
            return (value, m, nanos)
        }
    }
}
