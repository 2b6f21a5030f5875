import PlumbCore

/// Incidents as a result table, so every output format of `plumb query` prints them.
public enum IncidentReport {
    public static let names = ["provider", "model", "kind", "start", "end", "ongoing", "minutes", "peak_error_rate",
                               "requests", "affected", "failed_cost_usd", "query"]
    static let types: [SQLType] = [.varchar, .varchar, .varchar, .timestamp, .timestamp, .boolean, .bigint, .double,
                                   .bigint, .bigint, .double, .varchar]

    public static func write(_ incidents: [Incident], to w: ResultWriter) {
        w.begin(QueryEngine.Header(names: names, types: types))
        var columns = types.map { VectorBuilder(type: $0, capacity: incidents.count) }
        for i in incidents {
            let values: [Value] = [
                .string(i.provider), i.model.map(Value.string) ?? .null, .string(i.kind.rawValue), .timestamp(i.start),
                i.ongoing ? .null : .timestamp(i.end), .bool(i.ongoing), .int((i.end - i.start) / 60_000_000),
                .double(i.peakErrorRate), .int(i.requests), .int(i.affected), .double(i.failedCostUSD), .string(i.query),
            ]
            for k in values.indices { columns[k].append(values[k]) }
        }
        w.write(Batch(columns: columns.map { $0.finish() }, count: incidents.count))
        w.end()
    }
}
