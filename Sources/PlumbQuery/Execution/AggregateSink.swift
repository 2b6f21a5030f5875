/// GROUP BY and aggregates: numbers each row's group, updates every aggregate, and at the end
/// builds the aggregate's output (keys, then aggregates), applies HAVING, and hands it to the
/// select list's sink (sorting, LIMIT).
final class AggregateSink: RowSink {
    let plan: AggregatePlan
    let having: BoundExpr?
    let next: RowSink
    let prepare: (inout Batch) -> Void
    let table: GroupTable
    let accumulators: [Accumulator]

    init(plan: AggregatePlan, having: BoundExpr?, next: RowSink, prepare: @escaping (inout Batch) -> Void) {
        self.plan = plan; self.having = having; self.next = next; self.prepare = prepare
        table = GroupTable(keyTypes: plan.keys.map(\.type))
        var shared: [String: GroupValues] = [:]
        accumulators = plan.aggregates.map { $0.makeAccumulator(shared: &shared) }
    }

    func consume(_ input: Batch) throws -> Bool {
        var b = input
        prepare(&b)
        let keys = try plan.keys.map { try Evaluator.evaluate($0, b) }
        let groups = table.groups(keys, rows: b.count)
        let n = table.count
        for (a, spec) in zip(accumulators, plan.aggregates) {
            try a.update(groups, groupCount: n, try spec.argument.map { try Evaluator.evaluate($0, b) })
        }
        return true
    }

    func finish(_ emit: (Batch) throws -> Void) throws {
        let n = table.count
        let columns = table.keyColumns() + accumulators.map { $0.finish(groupCount: n) }
        var out = Batch(columns: columns, count: n)
        if let having { out = out.gather(Evaluator.selected(try Evaluator.evaluate(having, out))) }
        if out.count > 0 { _ = try next.consume(out) }
        try next.finish(emit)
    }
}
