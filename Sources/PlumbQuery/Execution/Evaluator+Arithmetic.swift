import PlumbCore

/// + - * / // % and ||. Integer arithmetic is checked (overflow is an error, as in DuckDB); `/` is
/// always DOUBLE division; `//` truncates BIGINTs and divides DOUBLEs (DuckDB 2.0); `//` and `%`
/// by zero are errors; timestamps and intervals add up by calendar.
extension Evaluator {
    static func arithmetic(_ op: BinaryOp, _ a: Vector, _ b: Vector, _ t: SQLType) throws -> Vector {
        let n = max(a.count, b.count)
        let valid = Columns.validity(a, b)
        if a.isConstantNull || b.isConstantNull { return .constant(.null, type: t, count: n) }
        if op == .concat {
            return try rowWise(.varchar, [a, b], count: n) { row in
                .string(Cast.text(row[0]) + Cast.text(row[1]))
            }
        }
        switch (a.type, b.type, t) {
        case (.bigint, .bigint, .bigint):
            let x = Columns.ints(a), y = Columns.ints(b)
            var out = [Int64](repeating: 0, count: n)
            for i in 0..<n {
                if let valid, !valid[i] { continue }
                out[i] = try intOp(op, x[i], y[i])
            }
            return Vector(type: .bigint, data: .int(out), validity: valid)
        case (.double, .double, .double), (.bigint, .bigint, .double), (.bigint, .double, .double), (.double, .bigint, .double):
            let x = Columns.doubles(a), y = Columns.doubles(b)
            var out = [Double](repeating: 0, count: n)
            switch op {
            case .add: for i in 0..<n { out[i] = x[i] + y[i] }
            case .subtract: for i in 0..<n { out[i] = x[i] - y[i] }
            case .multiply: for i in 0..<n { out[i] = x[i] * y[i] }
            case .divide: for i in 0..<n { out[i] = x[i] / y[i] }
            case .intDivide, .modulo:
                for i in 0..<n {
                    if let valid, !valid[i] { continue }
                    guard y[i] != 0 else { throw QueryError("Division by zero in \(op.rawValue)") }
                    // DuckDB 2.0's `//` on DOUBLEs divides without rounding (7.5 // 2 = 3.75).
                    out[i] = op == .modulo ? x[i].truncatingRemainder(dividingBy: y[i]) : x[i] / y[i]
                }
            default: break
            }
            return Vector(type: .double, data: .double(out), validity: valid)
        default:
            return try rowWise(t, [a, b], count: n) { row in try temporal(op, row[0], row[1]) }
        }
    }

    @inline(__always) static func intOp(_ op: BinaryOp, _ x: Int64, _ y: Int64) throws -> Int64 {
        let r: (partialValue: Int64, overflow: Bool)
        switch op {
        case .add: r = x.addingReportingOverflow(y)
        case .subtract: r = x.subtractingReportingOverflow(y)
        case .multiply: r = x.multipliedReportingOverflow(by: y)
        case .intDivide, .modulo:
            guard y != 0 else { throw QueryError("Division by zero in \(x) \(op.rawValue) \(y)") }
            if x == .min && y == -1 {
                if op == .modulo { return 0 }
                throw QueryError("Overflow in division of BIGINT (\(x) // \(y))")
            }
            return op == .modulo ? x % y : x / y
        default: return 0
        }
        if r.overflow {
            let name = op == .add ? "addition" : (op == .subtract ? "subtraction" : "multiplication")
            throw QueryError("Overflow in \(name) of BIGINT (\(x) \(op.rawValue) \(y))")
        }
        return r.partialValue
    }

    /// Timestamp and interval arithmetic, value by value.
    static func temporal(_ op: BinaryOp, _ x: Value, _ y: Value) throws -> Value {
        switch (x, y, op) {
        case (.timestamp(let t), .interval(let i), .add), (.interval(let i), .timestamp(let t), .add):
            return .timestamp(try TimeMath.add(i, to: t))
        case (.timestamp(let t), .interval(let i), .subtract):
            return .timestamp(try TimeMath.add(i.negated, to: t))
        case (.timestamp(let p), .timestamp(let q), .subtract):
            let (d, o) = p.subtractingReportingOverflow(q)
            guard !o else { throw QueryError("Overflow in timestamp subtraction") }
            return .interval(Interval(days: d / 86_400_000_000, micros: d % 86_400_000_000))
        case (.interval(let i), .interval(let j), .add), (.interval(let i), .interval(let j), .subtract):
            guard let r = i.adding(op == .add ? j : j.negated) else { throw QueryError("Overflow in interval \(op == .add ? "addition" : "subtraction")") }
            return .interval(r)
        case (.interval(let i), .int(let k), .multiply), (.int(let k), .interval(let i), .multiply):
            guard let r = i.times(k) else { throw QueryError("Overflow in interval multiplication") }
            return .interval(r)
        case (.interval(let i), .double(let k), .multiply), (.double(let k), .interval(let i), .multiply):
            guard let m = Int64(exactly: (Double(i.months) * k).rounded(.towardZero)), let d = Int64(exactly: (Double(i.days) * k).rounded(.towardZero)),
                  let u = Int64(exactly: (Double(i.micros) * k).rounded(.towardZero)) else { throw QueryError("Overflow in interval multiplication") }
            return .interval(Interval(months: m, days: d, micros: u))
        default:
            throw QueryError("cannot apply \(op.rawValue) to \(x) and \(y)")
        }
    }
}
