import PlumbStore

/// The values of one expression over a batch of rows, column-wise. Strings from low-cardinality
/// columns stay dictionary-coded (`dict`), so filters and GROUP BY work on the codes; a literal
/// is one `constant` for the whole batch.
///
/// ```swift
/// let v = Vector(type: .bigint, data: .int([1, 2, 3]))
/// v.value(at: 1)     // .int(2)
/// ```
public struct Vector: Sendable {
    public enum Data: Sendable {
        case bool([Bool])
        case int([Int64])                     // BIGINT and TIMESTAMP
        case double([Double])
        case string([String])
        case dict(codes: [UInt32], dictionary: [String])
        /// Hex ids kept as 64-bit words until a string is needed (see `HexStrings`).
        case hex(HexStrings)
        /// DOUBLE values kept as the store's decimals (see `DecimalValues`).
        case decimal(DecimalValues)
        case interval([Interval])
        case map([[String: String]])
        case constant(Value, count: Int)
    }

    public var type: SQLType
    public var data: Data
    /// nil: no nulls. Null rows hold a placeholder value.
    public var validity: [Bool]?

    public init(type: SQLType, data: Data, validity: [Bool]? = nil) {
        self.type = type; self.data = data; self.validity = validity
    }

    public static func constant(_ v: Value, type: SQLType, count: Int) -> Vector {
        Vector(type: type, data: .constant(v, count: count))
    }

    public var count: Int {
        switch data {
        case .bool(let v): v.count
        case .int(let v): v.count
        case .double(let v): v.count
        case .string(let v): v.count
        case .dict(let c, _): c.count
        case .hex(let h): h.count
        case .decimal(let d): d.count
        case .interval(let v): v.count
        case .map(let v): v.count
        case .constant(_, let n): n
        }
    }

    @inline(__always) public func isValid(_ i: Int) -> Bool {
        if case .constant(let v, _) = data { return !v.isNull }
        return validity?[i] ?? true
    }

    public func value(at i: Int) -> Value {
        guard isValid(i) else { return .null }
        switch data {
        case .bool(let v): return .bool(v[i])
        case .int(let v): return type == .timestamp ? .timestamp(v[i]) : .int(v[i])
        case .double(let v): return .double(v[i])
        case .string(let v): return .string(v[i])
        case .dict(let c, let d): return .string(d[Int(c[i])])
        case .hex(let h): return .string(h.string(i))
        case .decimal(let d): return .double(d.double(i))
        case .interval(let v): return .interval(v[i])
        case .map(let v): return .map(v[i])
        case .constant(let v, _): return v
        }
    }

    /// The rows at `indices`, in that order.
    public func gather(_ indices: [Int]) -> Vector {
        let valid = validity.map { v in indices.map { v[$0] } }
        switch data {
        case .bool(let v): return Vector(type: type, data: .bool(indices.map { v[$0] }), validity: valid)
        case .int(let v):
            return v.withUnsafeBufferPointer { b in Vector(type: type, data: .int(indices.map { b[$0] }), validity: valid) }
        case .double(let v):
            return v.withUnsafeBufferPointer { b in Vector(type: type, data: .double(indices.map { b[$0] }), validity: valid) }
        case .string(let v): return Vector(type: type, data: .string(indices.map { v[$0] }), validity: valid)
        case .dict(let c, let d): return Vector(type: type, data: .dict(codes: indices.map { c[$0] }, dictionary: d), validity: valid)
        case .hex(let h): return Vector(type: type, data: .hex(h.gather(indices)), validity: valid)
        case .decimal(let d): return Vector(type: type, data: .decimal(d.gather(indices)), validity: valid)
        case .interval(let v): return Vector(type: type, data: .interval(indices.map { v[$0] }), validity: valid)
        case .map(let v): return Vector(type: type, data: .map(indices.map { v[$0] }), validity: valid)
        case .constant(let v, _): return .constant(v, type: type, count: indices.count)
        }
    }

    /// Plain typed arrays joined without going value by value; nil for other representations.
    static func concatenateTyped(_ parts: [Vector], type: SQLType) -> Vector? {
        let anyNulls = parts.contains { $0.validity != nil }
        var validity: [Bool]? = nil
        if anyNulls {
            var v: [Bool] = []
            for p in parts { v += p.validity ?? [Bool](repeating: true, count: p.count) }
            validity = v
        }
        func join<T>(_ pick: (Data) -> [T]?) -> [T]? {
            var out: [T] = []
            out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
            for p in parts { guard let a = pick(p.data) else { return nil }; out += a }
            return out
        }
        if let a = join({ if case .int(let x) = $0 { x } else { nil } }) { return Vector(type: type, data: .int(a), validity: validity) }
        if let a = join({ if case .double(let x) = $0 { x } else { nil } }) { return Vector(type: type, data: .double(a), validity: validity) }
        if let a = join({ if case .string(let x) = $0 { x } else { nil } }) { return Vector(type: type, data: .string(a), validity: validity) }
        if let a = join({ if case .bool(let x) = $0 { x } else { nil } }) { return Vector(type: type, data: .bool(a), validity: validity) }
        return nil
    }

    /// A vector of `values` (all of `type`, or null).
    public static func from(_ values: [Value], type: SQLType) -> Vector {
        var b = VectorBuilder(type: type, capacity: values.count)
        for v in values { b.append(v) }
        return b.finish()
    }

    /// The rows of several vectors of one type, one after another.
    public static func concatenate(_ parts: [Vector], type: SQLType) -> Vector {
        if parts.count == 1 { return parts[0] }
        if let joined = concatenateTyped(parts, type: type) { return joined }
        var b = VectorBuilder(type: type, capacity: parts.reduce(0) { $0 + $1.count })
        for p in parts { for i in 0..<p.count { b.append(p.value(at: i)) } }
        return b.finish()
    }
}

/// Builds a vector value by value (for results of aggregation, sorting and row-wise functions).
public struct VectorBuilder {
    let type: SQLType
    var bools: [Bool] = [], ints: [Int64] = [], doubles: [Double] = [], strings: [String] = []
    var intervals: [Interval] = [], maps: [[String: String]] = []
    var valid: [Bool] = []
    var anyNull = false

    public init(type: SQLType, capacity: Int = 0) {
        self.type = type
        valid.reserveCapacity(capacity)
        switch type {
        case .boolean: bools.reserveCapacity(capacity)
        case .bigint, .timestamp: ints.reserveCapacity(capacity)
        case .double: doubles.reserveCapacity(capacity)
        case .varchar: strings.reserveCapacity(capacity)
        case .interval: intervals.reserveCapacity(capacity)
        case .map: maps.reserveCapacity(capacity)
        case .null: break
        }
    }

    public mutating func append(_ v: Value) {
        let isNull = v.isNull
        valid.append(!isNull)
        if isNull { anyNull = true }
        switch type {
        case .boolean: if case .bool(let b) = v { bools.append(b) } else { bools.append(false) }
        case .bigint, .timestamp:
            switch v {
            case .int(let i), .timestamp(let i): ints.append(i)
            default: ints.append(0)
            }
        case .double:
            switch v {
            case .double(let d): doubles.append(d)
            case .int(let i): doubles.append(Double(i))
            default: doubles.append(0)
            }
        case .varchar: if case .string(let s) = v { strings.append(s) } else { strings.append("") }
        case .interval: if case .interval(let x) = v { intervals.append(x) } else { intervals.append(Interval()) }
        case .map: if case .map(let m) = v { maps.append(m) } else { maps.append([:]) }
        case .null: break
        }
    }

    public func finish() -> Vector {
        let validity = anyNull ? valid : nil
        switch type {
        case .boolean: return Vector(type: type, data: .bool(bools), validity: validity)
        case .bigint, .timestamp: return Vector(type: type, data: .int(ints), validity: validity)
        case .double: return Vector(type: type, data: .double(doubles), validity: validity)
        case .varchar: return Vector(type: type, data: .string(strings), validity: validity)
        case .interval: return Vector(type: type, data: .interval(intervals), validity: validity)
        case .map: return Vector(type: type, data: .map(maps), validity: validity)
        case .null: return .constant(.null, type: .null, count: valid.count)
        }
    }
}

/// Rows flowing between operators: one vector per column of the operator's output layout.
public struct Batch: Sendable {
    public var columns: [Vector]
    public var count: Int
    /// Where each row's bodies are, while the body columns are still unread (see `BodyFetch`).
    public var bodyRefs: [BodyRef?]?
    /// The query's deadline, checked as the costly parts of an expression are evaluated (one row
    /// group can take seconds: a hundred functions over every body).
    public var deadline: QueryDeadline?

    public init(columns: [Vector], count: Int) { self.columns = columns; self.count = count }

    public func gather(_ indices: [Int]) -> Batch {
        var b = Batch(columns: columns.map { $0.count == count ? $0.gather(indices) : $0 }, count: indices.count)
        b.bodyRefs = bodyRefs.map { refs in indices.map { refs[$0] } }
        b.deadline = deadline
        return b
    }
}
