/// The running GROUP BY of one query: the groups seen so far and every aggregate's state.
/// `AggregateSink` feeds one from the scan; a row group's own state can be kept and merged
/// into another query's (`PartialAggregateCache`).
final class AggregateState {
    let plan: AggregatePlan
    let table: GroupTable
    let accumulators: [Accumulator]

    init(plan: AggregatePlan, table: GroupTable, accumulators: [Accumulator]) {
        self.plan = plan; self.table = table; self.accumulators = accumulators
    }

    /// An independent copy of a mergeable state (cheap: arrays are shared until written).
    func copy() -> AggregateState {
        var values: [ObjectIdentifier: GroupValues] = [:]
        return AggregateState(plan: plan, table: table.copy(),
                              accumulators: accumulators.map { ($0 as! MergeableAccumulator).copy(values: &values) })
    }

    init(plan: AggregatePlan) {
        self.plan = plan
        table = GroupTable(keyTypes: plan.keys.map(\.type))
        var shared: [String: GroupValues] = [:]
        accumulators = plan.aggregates.map { $0.makeAccumulator(shared: &shared) }
    }

    /// A row group's own state, only ever merged into another (`GroupTable.mergeOnly`).
    static func own(_ plan: AggregatePlan, _ b: Batch) throws -> AggregateState {
        let own = AggregateState(plan: plan)
        own.table.mergeOnly = true
        try own.consume(b)
        return own
    }

    /// Whether states of this plan can be merged (DISTINCT aggregates keep sets; they cannot).
    static func mergeable(_ plan: AggregatePlan) -> Bool { !plan.aggregates.contains { $0.distinct } }

    /// A batch's group keys and aggregate arguments as vectors.
    static func evaluate(_ plan: AggregatePlan, _ b: Batch) throws -> (keys: [Vector], args: [Vector?]) {
        (try plan.keys.map { try Evaluator.evaluate($0, b) },
         try plan.aggregates.map { spec in try spec.argument.map { try Evaluator.evaluate($0, b) } })
    }

    func consume(_ b: Batch) throws {
        let (keys, args) = try Self.evaluate(plan, b)
        if consumeByEntry(keys, args, rows: b.count) { return }
        let groups = table.groups(keys, rows: b.count)
        let n = table.count
        for (a, arg) in zip(accumulators, args) { try a.update(groups, groupCount: n, arg) }
    }

    /// Puts the kept values of quantiles in order (`GroupValues.seal`): for a state copied
    /// and finished again and again.
    func seal() {
        for case let q as QuantileAccumulator in accumulators where q.feeds { q.values.seal() }
    }

    /// Adds `other` (a state of the same plan) to this one; `other` is only read.
    func merge(_ other: AggregateState) throws {
        let map = plan.keys.isEmpty ? [0] : table.groups(other.keyColumns, rows: other.table.count)
        let n = table.count
        for (a, b) in zip(accumulators, other.accumulators) {
            try (a as! MergeableAccumulator).merge(b, map: map, groupCount: n)
        }
    }

    /// The groups' keys as columns, built once (a kept state is merged frame after frame).
    lazy var keyColumns: [Vector] = table.mergeKeyColumns()

    /// Keys, then one column per aggregate, a row per group.
    func finish() -> Batch {
        let n = table.count
        return Batch(columns: table.keyColumns() + accumulators.map { $0.finish(groupCount: n) }, count: n)
    }
}
