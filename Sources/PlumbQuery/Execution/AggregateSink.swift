/// GROUP BY and aggregates: numbers each row's group, updates every aggregate, and at the end
/// builds the aggregate's output (keys, then aggregates), applies HAVING, and hands it to the
/// select list's sink (sorting, LIMIT).
final class AggregateSink: RowSink {
    let plan: AggregatePlan
    let having: BoundExpr?
    let next: RowSink
    let prepare: (inout Batch) -> Void
    /// Replaced, before any row, by a copy of kept partial aggregates (`PartialAggregateCache`).
    var state: AggregateState

    init(plan: AggregatePlan, having: BoundExpr?, next: RowSink, prepare: @escaping (inout Batch) -> Void) {
        self.plan = plan; self.having = having; self.next = next; self.prepare = prepare
        state = AggregateState(plan: plan)
    }

    func consume(_ input: Batch) throws -> Bool {
        var b = input
        prepare(&b)
        try state.consume(b)
        return true
    }

    func finish(_ emit: (Batch) throws -> Void) throws {
        var out = state.finish()
        if let having { out = out.gather(Evaluator.selected(try Evaluator.evaluate(having, out))) }
        if out.count > 0 { _ = try next.consume(out) }
        try next.finish(emit)
    }
}
