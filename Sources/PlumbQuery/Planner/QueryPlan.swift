import PlumbCore
import PlumbStore

/// Text of a query's plan for EXPLAIN: the operators from the top, the predicates pushed to the
/// zone maps, and what the zone maps and the catalog's time ranges let the scan skip.
public enum QueryPlan {
    public static func explain(_ q: BoundQuery, snapshot: StoreSnapshot?, predicates: [ZonePredicate], totalSegments: Int) -> String {
        var lines: [String] = []
        var depth = 0
        func add(_ s: String) { lines.append(String(repeating: "  ", count: depth) + s); depth += 1 }
        if q.limit != nil || q.offset > 0 {
            add("LIMIT \(q.limit.map(String.init) ?? "ALL")\(q.offset > 0 ? " OFFSET \(q.offset)" : "")\(q.order.isEmpty && q.aggregate == nil ? " (streaming: the scan stops at the limit)" : "")")
        }
        if !q.order.isEmpty {
            add("ORDER BY " + q.order.map { "\($0.text) \($0.descending ? "DESC" : "ASC") NULLS \($0.nullsFirst ? "FIRST" : "LAST")" }.joined(separator: ", ")
                + (q.limit.map { " (top \($0.addingReportingOverflow(q.offset).overflow ? Int64.max : $0 + q.offset))" } ?? ""))
        }
        if q.distinct { add("DISTINCT") }
        add("PROJECT " + q.names.joined(separator: ", "))
        if let plan = q.aggregate {
            if q.having != nil { add("HAVING") }
            let keys = plan.keyTexts.isEmpty ? "(no keys: one group)" : plan.keyTexts.joined(separator: ", ")
            add("AGGREGATE " + plan.aggregates.map(\.text).joined(separator: ", ") + " GROUP BY " + keys)
        }
        if let f = q.filterText { add("FILTER " + f) }
        guard q.hasFrom else { add("ONE ROW (no FROM)"); return lines.joined(separator: "\n") }
        let bodies = q.scanColumns.filter { $0.hasSuffix("_body") }
        add("SCAN spans columns: " + (q.scanColumns.isEmpty ? "(none: row counts only)" : q.scanColumns.joined(separator: ", "))
            + (bodies.isEmpty ? "" : " (bodies read only for rows that pass the filter)"))
        lines.append(String(repeating: "  ", count: depth) + "zone-map predicates: " + (predicates.isEmpty ? "none" : predicates.map(\.description).joined(separator: "; ")))
        if let snapshot {
            let scan = StoreScan(snapshot: snapshot, columns: q.scanColumns, predicates: predicates)
            _ = scan.plan()
            let s = scan.stats
            let byTime = totalSegments - s.segments
            let segKept = s.segments - s.segmentsSkipped
            lines.append(String(repeating: "  ", count: depth) + "segments: \(segKept) read, \(s.segmentsSkipped + byTime) skipped of \(totalSegments) (\(byTime) by the catalog's time ranges, \(s.segmentsSkipped) by zone maps)")
            let byZones = s.rowGroupsSkipped - s.rowGroupsSkippedByFilter
            lines.append(String(repeating: "  ", count: depth) + "row groups: \(s.rowGroups - s.rowGroupsSkipped) read, \(byZones) skipped by zone maps"
                         + (s.rowGroupsSkippedByFilter > 0 ? ", \(s.rowGroupsSkippedByFilter) by span-id filters" : ""))
            lines.append(String(repeating: "  ", count: depth) + "unpublished spans (WAL): \(s.unpublishedRows)")
        }
        return lines.joined(separator: "\n")
    }
}
