import PlumbStore

extension QueryExecutor {
    /// Row group `group` of segment `hash`: its key and its own aggregate state, as a live
    /// dashboard's `runPartials` would keep them (`PartialRollups`, written by `RollupWriter`).
    /// nil where that would keep none: the zone maps skip the row group, retention cuts into
    /// it, the query reads bodies or has no aggregate that a rollup can hold.
    func rowGroupState(segment hash: String, group: Int) throws -> (key: String, state: AggregateState)? {
        guard let snapshot, let plan = query.aggregate, query.hasFrom, AggregateState.persistable(plan) else { return nil }
        let scan = StoreScan(snapshot: snapshot, columns: query.scanColumns, predicates: predicates, filter: query.filter, directory: directory)
        guard !scan.needsBodies else { return nil }
        var out: (key: String, state: AggregateState)?
        try scan.scan(threads: 1, reuse: { $0.hash != hash || $0.group != group }, reduce: { _, batch in
            Partial(state: try batch.map { try AggregateState.own(plan, $0) })
        }, rowGroup: { item, partial in
            if let key = scan.reuseKey(item) { out = (key, partial.state ?? AggregateState(plan: plan)) }
            return true
        }, unpublished: { _ in false })
        return out
    }

    /// Row group `group` of segment `hash`'s key (nil: skipped by the zone maps, or retention
    /// cuts into it), without reading it: a key that changes with now() (the row group reaches
    /// past the range's start) is worth no rollup.
    func rowGroupKey(segment hash: String, group: Int) -> String? {
        guard let snapshot else { return nil }
        let scan = StoreScan(snapshot: snapshot, columns: query.scanColumns, predicates: predicates, filter: query.filter, directory: directory)
        for p in scan.plan() where p.hash == hash && p.rowGroups.contains(group) {
            return scan.reuseKey(StoreScan.Item(segment: p.segment, tsMin: p.tsMin, group: group, hash: hash))
        }
        return nil
    }
}
