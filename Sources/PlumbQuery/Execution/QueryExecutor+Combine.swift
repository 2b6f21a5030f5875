extension QueryExecutor {
    /// Kept row groups' states by segment (the part of the key before `#`), segments in the
    /// order their first row group came, row groups in theirs.
    static func bySegment(_ reused: [(key: String, state: AggregateState)]) -> [(segment: String, members: [(key: String, state: AggregateState)])] {
        var out: [(segment: String, members: [(key: String, state: AggregateState)])] = []
        var index: [String: Int] = [:]
        for r in reused {
            let segment = String(r.key.prefix { $0 != "#" })
            if let i = index[segment] { out[i].members.append(r) } else {
                index[segment] = out.count
                out.append((segment, [r]))
            }
        }
        return out
    }

    /// The kept states merged into one (sealed, to be copied frame after frame). Each segment's
    /// row groups are first merged into a sealed state of their own, kept in `cache`:
    /// compaction replaces whole segments and the range's start leaves row groups of the oldest
    /// only, so a rebuild merges one state per segment and rebuilds only the segments that
    /// changed, where merging every row group again (189 per panel) and putting every quantile
    /// value in order again cost frames over 50 ms.
    ///
    /// ```swift
    /// let state = try QueryExecutor.combine(QueryExecutor.bySegment(reused), plan: plan, query: q, cache: cache, run: run)
    /// ```
    static func combine(_ bySegment: [(segment: String, members: [(key: String, state: AggregateState)])],
                        plan: AggregatePlan, query: String, cache: PartialAggregateCache, run: Int) throws -> AggregateState {
        let combined = AggregateState(plan: plan)
        for (segment, members) in bySegment {
            guard members.count > 1 else { try combined.merge(members[0].state); continue }
            let keys = Set(members.map(\.key))
            var kept = cache.segmentState(query, segment, run: run)
            if kept == nil || !kept!.keys.isSubset(of: keys) {
                let state = AggregateState(plan: plan)
                for m in members { try state.merge(m.state) }
                // In order once: the combined state's own ordering then merges runs (the
                // standard sort finds them) instead of sorting every value again.
                state.seal()
                kept = (keys, state)
                cache.setSegmentState(query, segment, keys, state, run: run)
            }
            try combined.merge(kept!.state)
            for m in members where !kept!.keys.contains(m.key) { try combined.merge(m.state) }
        }
        combined.seal()
        return combined
    }
}
