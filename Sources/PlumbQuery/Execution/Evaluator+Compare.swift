import PlumbStore

/// Comparisons, IN and LIKE. A dictionary-coded column against a constant is decided once per
/// dictionary entry and then looked up by code.
extension Evaluator {
    @inline(__always) static func holds(_ op: BinaryOp, _ c: Int) -> Bool {
        switch op {
        case .equal: c == 0
        case .notEqual: c != 0
        case .less: c < 0
        case .lessEqual: c <= 0
        case .greater: c > 0
        case .greaterEqual: c >= 0
        default: false
        }
    }

    static func compare(_ op: BinaryOp, _ a: Vector, _ b: Vector) throws -> Vector {
        let n = max(a.count, b.count)
        let valid = Columns.validity(a, b)
        if a.isConstantNull || b.isConstantNull { return .constant(.null, type: .boolean, count: n) }
        if case .constant(let x, _) = a.data, case .constant(let y, _) = b.data {
            return .constant(.bool(holds(op, ValueOrder.compare(x, y))), type: .boolean, count: n)
        }
        // Dictionary column against a constant (either side): one comparison per entry.
        if case .dict(let codes, let dict) = a.data, case .constant(let c, _) = b.data {
            let perEntry = dict.map { holds(op, ValueOrder.compare(.string($0), c)) }
            return Vector(type: .boolean, data: .bool(codes.map { perEntry[Int($0)] }), validity: valid)
        }
        if case .constant(let c, _) = a.data, case .dict(let codes, let dict) = b.data {
            let perEntry = dict.map { holds(op, ValueOrder.compare(c, .string($0))) }
            return Vector(type: .boolean, data: .bool(codes.map { perEntry[Int($0)] }), validity: valid)
        }
        // Hex ids against a constant: = and != on words.
        if op == .equal || op == .notEqual {
            if case .hex(let h) = a.data, case .constant(.string(let c), _) = b.data { return hexEquals(h, c, op, valid) }
            if case .constant(.string(let c), _) = a.data, case .hex(let h) = b.data { return hexEquals(h, c, op, valid) }
        }
        // A column against a constant number: one pass over the column.
        if case .constant(let c, _) = b.data, let r = compareToConstant(op, a, c, valid) { return r }
        if case .constant(let c, _) = a.data, let r = compareToConstant(op.flipped, b, c, valid) { return r }
        var out = [Bool](repeating: false, count: n)
        switch a.type {
        case .bigint, .timestamp:
            let x = Columns.ints(a), y = Columns.ints(b)
            x.withUnsafeBufferPointer { x in y.withUnsafeBufferPointer { y in
                switch op {
                case .equal: for i in 0..<n { out[i] = x[i] == y[i] }
                case .notEqual: for i in 0..<n { out[i] = x[i] != y[i] }
                case .less: for i in 0..<n { out[i] = x[i] < y[i] }
                case .lessEqual: for i in 0..<n { out[i] = x[i] <= y[i] }
                case .greater: for i in 0..<n { out[i] = x[i] > y[i] }
                case .greaterEqual: for i in 0..<n { out[i] = x[i] >= y[i] }
                default: break
                }
            } }
        case .double:
            let x = Columns.doubles(a), y = Columns.doubles(b)
            if x.contains(where: \.isNaN) || y.contains(where: \.isNaN) {
                for i in 0..<n { out[i] = holds(op, ValueOrder.compareDoubles(x[i], y[i])) }
            } else {
                x.withUnsafeBufferPointer { x in y.withUnsafeBufferPointer { y in
                    switch op {
                    case .equal: for i in 0..<n { out[i] = x[i] == y[i] }
                    case .notEqual: for i in 0..<n { out[i] = x[i] != y[i] }
                    case .less: for i in 0..<n { out[i] = x[i] < y[i] }
                    case .lessEqual: for i in 0..<n { out[i] = x[i] <= y[i] }
                    case .greater: for i in 0..<n { out[i] = x[i] > y[i] }
                    case .greaterEqual: for i in 0..<n { out[i] = x[i] >= y[i] }
                    default: break
                    }
                } }
            }
        case .varchar:
            let x = Columns.strings(a), y = Columns.strings(b)
            for i in 0..<n { out[i] = holds(op, Int(UTF8Bytes.compare(x[i], y[i]).signum())) }
        default:
            for i in 0..<n {
                let p = a.value(at: i), q = b.value(at: i)
                if !p.isNull && !q.isNull { out[i] = holds(op, ValueOrder.compare(p, q)) }
            }
        }
        return Vector(type: .boolean, data: .bool(out), validity: valid)
    }

    /// `column op constant` for integer and double columns; nil for other cases.
    static func compareToConstant(_ op: BinaryOp, _ v: Vector, _ c: Value, _ valid: [Bool]?) -> Vector? {
        switch (v.data, c) {
        case (.int(let x), .int(let k)), (.int(let x), .timestamp(let k)):
            return Vector(type: .boolean, data: .bool(scan(x, op, equalFrom: k, to: k)), validity: valid)
        case (.decimal(let d), .double(let k)):
            // On the integers: x op k  <=>  n op' bound (exact, see DecimalValues.bounds).
            guard let (atMost, atLeast) = d.bounds(k) else { return nil }
            return Vector(type: .boolean, data: .bool(scan(d.scaled, op, equalFrom: atLeast, to: atMost)), validity: valid)
        case (.double(let x), .double(let k)):
            if k.isNaN { return nil }
            // NaN in the column sorts above every number (ValueOrder), so "NaN > k" holds.
            return Vector(type: .boolean, data: .bool(scan(x, op) { $0 < k ? -1 : ($0 > k ? 1 : ($0 == k ? 0 : 1)) }), validity: valid)
        default:
            return nil
        }
    }

    /// Integers against a constant, where the values "equal" to it are those in
    /// `[low, high]` (one integer, or the band of scaled decimals a double equals): one plain
    /// loop per operator, no call per row.
    static func scan(_ x: [Int64], _ op: BinaryOp, equalFrom low: Int64, to high: Int64) -> [Bool] {
        [Bool](unsafeUninitializedCapacity: x.count) { out, n in
            x.withUnsafeBufferPointer { x in
                switch op {
                case .equal: for i in x.indices { out[i] = x[i] >= low && x[i] <= high }
                case .notEqual: for i in x.indices { out[i] = x[i] < low || x[i] > high }
                case .less: for i in x.indices { out[i] = x[i] < low }
                case .lessEqual: for i in x.indices { out[i] = x[i] <= high }
                case .greater: for i in x.indices { out[i] = x[i] > high }
                case .greaterEqual: for i in x.indices { out[i] = x[i] >= low }
                default: for i in x.indices { out[i] = false }
                }
            }
            n = x.count
        }
    }

    @inline(__always) static func scan<T>(_ x: [T], _ op: BinaryOp, _ cmp: (T) -> Int) -> [Bool] {
        [Bool](unsafeUninitializedCapacity: x.count) { out, n in
            x.withUnsafeBufferPointer { x in
                switch op {
                case .equal: for i in x.indices { out[i] = cmp(x[i]) == 0 }
                case .notEqual: for i in x.indices { out[i] = cmp(x[i]) != 0 }
                case .less: for i in x.indices { out[i] = cmp(x[i]) < 0 }
                case .lessEqual: for i in x.indices { out[i] = cmp(x[i]) <= 0 }
                case .greater: for i in x.indices { out[i] = cmp(x[i]) > 0 }
                case .greaterEqual: for i in x.indices { out[i] = cmp(x[i]) >= 0 }
                default: for i in x.indices { out[i] = false }
                }
            }
            n = x.count
        }
    }

    static func hexEquals(_ h: HexStrings, _ c: String, _ op: BinaryOp, _ valid: [Bool]?) -> Vector {
        var out = [Bool](repeating: op == .notEqual, count: h.count)
        if let w = h.words(of: c) {
            for i in 0..<h.count {
                var same = true
                for k in w.indices where h.words[k][i] != w[k] { same = false; break }
                out[i] = same == (op == .equal)
            }
        }
        return Vector(type: .boolean, data: .bool(out), validity: valid)
    }

    /// `x IN (a, b, ...)`: true on a match; otherwise NULL if x or any list item is NULL; else false.
    static func inList(_ x: Vector, _ list: [BoundExpr], negated: Bool, _ b: Batch) throws -> Vector {
        let n = x.count
        if list.allSatisfy({ $0.constantValue != nil }) {
            let constants = list.compactMap(\.constantValue)
            let listHasNull = constants.contains { $0.isNull }
            let nonNull = constants.filter { !$0.isNull }
            func decide(_ v: Value) -> Value {
                if v.isNull { return .null }
                if nonNull.contains(where: { ValueOrder.compare(v, $0) == 0 }) { return .bool(!negated) }
                return listHasNull ? .null : .bool(negated)
            }
            if case .constant(let v, _) = x.data, x.validity == nil { return .constant(decide(v), type: .boolean, count: n) }
            if case .dict(let codes, let dict) = x.data {
                // Decided once per entry; rows only look up their entry's answer.
                let perEntry = dict.map { decide(.string($0)) }
                let answer = perEntry.map { if case .bool(let t) = $0 { t } else { false } }
                let known = perEntry.map { !$0.isNull }
                let out = codes.map { answer[Int($0)] }
                var valid = x.validity
                if known.contains(false) {
                    var v = valid ?? [Bool](repeating: true, count: n)
                    for i in 0..<n where !known[Int(codes[i])] { v[i] = false }
                    valid = v
                }
                return Vector(type: .boolean, data: .bool(out), validity: valid)
            }
            if nonNull.count > 8, !listHasNull {
                let set = Set(nonNull)      // the binder cast the list to x's type
                return try rowWise(.boolean, [x], count: n) { .bool(set.contains($0[0]) != negated) }
            }
            return try rowWise(.boolean, [x], count: n, nullsIn: true) { decide($0[0]) }
        }
        let items = try list.map { try evaluate($0, b) }
        return try rowWise(.boolean, [x] + items, count: n, nullsIn: true) { row in
            if row[0].isNull { return .null }
            var sawNull = false
            for v in row.dropFirst() {
                if v.isNull { sawNull = true; continue }
                if ValueOrder.compare(row[0], v) == 0 { return .bool(!negated) }
            }
            return sawNull ? .null : .bool(negated)
        }
    }

    static func like(_ x: Vector, _ p: Vector, _ caseInsensitive: Bool, _ negated: Bool) throws -> Vector {
        if case .constant(let pc, _) = p.data {
            guard case .string(let pattern) = pc else { return .constant(.null, type: .boolean, count: x.count) }
            let matcher = LikePattern(pattern, caseInsensitive: caseInsensitive)
            if case .dict(let codes, let dict) = x.data {
                let perEntry = dict.map { matcher.matches($0) != negated }
                return Vector(type: .boolean, data: .bool(codes.map { perEntry[Int($0)] }), validity: x.validity)
            }
            let strings = Columns.strings(x)
            return Vector(type: .boolean, data: .bool(strings.map { matcher.matches($0) != negated }), validity: x.validity)
        }
        return try rowWise(.boolean, [x, p], count: x.count) { row in
            guard case .string(let s) = row[0], case .string(let pat) = row[1] else { return .null }
            return .bool(LikePattern(pat, caseInsensitive: caseInsensitive).matches(s) != negated)
        }
    }
}
