/// A vector's values as a plain typed array (constants broadcast, dictionary codes decoded,
/// integers widened to DOUBLE where asked); null rows hold placeholders.
enum Columns {
    static func bools(_ v: Vector) -> [Bool] {
        switch v.data {
        case .bool(let x): return x
        case .constant(let c, let n): return [Bool](repeating: c == .bool(true), count: n)
        default: return (0..<v.count).map { v.value(at: $0) == .bool(true) }
        }
    }

    static func ints(_ v: Vector) -> [Int64] {
        switch v.data {
        case .int(let x): return x
        case .constant(let c, let n):
            switch c {
            case .int(let i), .timestamp(let i): return [Int64](repeating: i, count: n)
            default: return [Int64](repeating: 0, count: n)
            }
        case .bool(let x): return x.map { $0 ? 1 : 0 }
        default: return [Int64](repeating: 0, count: v.count)
        }
    }

    static func doubles(_ v: Vector) -> [Double] {
        switch v.data {
        case .double(let x): return x
        case .decimal(let d): return d.doubles
        case .int(let x): return x.map { Double($0) }
        case .constant(let c, let n): return [Double](repeating: c.asDouble ?? 0, count: n)
        default: return [Double](repeating: 0, count: v.count)
        }
    }

    /// `doubles` with `value` in the null rows.
    static func doubles(_ v: Vector, nullAs value: Double) -> [Double] {
        if v.isConstantNull { return [Double](repeating: value, count: v.count) }
        var out = doubles(v)
        if let valid = v.validity { for i in out.indices where !valid[i] { out[i] = value } }
        return out
    }

    static func strings(_ v: Vector) -> [String] {
        switch v.data {
        case .string(let x): return x
        case .dict(let codes, let dict): return codes.map { dict[Int($0)] }
        case .constant(let c, let n):
            if case .string(let s) = c { return [String](repeating: s, count: n) }
            return [String](repeating: "", count: n)
        default: return (0..<v.count).map { if case .string(let s) = v.value(at: $0) { return s }; return "" }
        }
    }

    /// A string vector as dictionary codes (coded here when it is not already); null rows get
    /// the code of "".
    static func coded(_ v: Vector) -> (codes: [UInt32], dictionary: [String]) {
        if case .dict(let codes, let dict) = v.data { return (codes, dict) }
        var ids: [String: UInt32] = [:], dict: [String] = []
        let codes = strings(v).map { s in
            if let id = ids[s] { return id }
            ids[s] = UInt32(dict.count); dict.append(s)
            return UInt32(dict.count - 1)
        }
        return (codes, dict)
    }

    /// The combined validity of two vectors (nil when neither has nulls).
    static func validity(_ a: Vector, _ b: Vector) -> [Bool]? {
        let n = max(a.count, b.count)
        if a.isConstantNull || b.isConstantNull { return [Bool](repeating: false, count: n) }
        switch (a.validity, b.validity) {
        case (nil, nil): return nil
        case (let x?, nil): return x
        case (nil, let y?): return y
        case (let x?, let y?): return zip(x, y).map { $0 && $1 }
        }
    }
}
