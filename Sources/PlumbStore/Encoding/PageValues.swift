/// The present (non-null) values of one page, in the form its type's encoder reads. The write
/// path builds these straight from WAL records; `init(_:)` picks them out of a `ColumnVector`.
///
/// ```swift
/// let v = PageValues(ColumnVector(.int([1, 0, 3]), validity: [true, false, true]))   // .int([1, 3])
/// let (page, zone) = PageCodec.encode(v, validity: [true, false, true], rows: 3)
/// ```
public enum PageValues {
    case int([Int64])
    case double([Double])
    case bool([Bool])
    case strings(ByteStrings)
    /// Entry counts per map, then every map's keys (sorted by bytes within a map) and values.
    case map(counts: [Int64], keys: ByteStrings, values: ByteStrings)

    public init(_ column: ColumnVector) {
        let present = column.validity.map { v in v.indices.filter { v[$0] } }
        func pick<T>(_ v: [T]) -> [T] { present.map { idx in idx.map { v[$0] } } ?? v }
        switch column.values {
        case .int(let v): self = .int(pick(v))
        case .double(let v): self = .double(pick(v))
        case .bool(let v): self = .bool(pick(v))
        case .string(let v): self = .strings(ByteStrings(pick(v)))
        case .map(let v):
            var counts = [Int64](), keys = ByteStrings(), values = ByteStrings()
            for m in pick(v) {
                counts.append(Int64(m.count))
                for k in m.keys.sorted(by: UTF8Bytes.less) { keys.append(k); values.append(m[k]!) }
            }
            self = .map(counts: counts, keys: keys, values: values)
        }
    }

    public var count: Int {
        switch self {
        case .int(let v): v.count
        case .double(let v): v.count
        case .bool(let v): v.count
        case .strings(let v): v.count
        case .map(let counts, _, _): counts.count
        }
    }

    /// Min and max for the zone map (the string encoder finds its bounds in its own pass).
    var bounds: ZoneBounds {
        switch self {
        case .int(let v):
            guard let lo = v.min(), let hi = v.max() else { return .none }
            return .int(min: lo, max: hi)
        case .bool(let v):
            guard !v.isEmpty else { return .none }
            return .int(min: v.contains(false) ? 0 : 1, max: v.contains(true) ? 1 : 0)
        case .double(let v):
            // A NaN has no place in an order: no bounds, so no page is ever skipped wrongly.
            guard !v.isEmpty, !v.contains(where: \.isNaN), let lo = v.min(), let hi = v.max() else { return .none }
            return .double(min: lo, max: hi)
        case .strings(let s):
            return s.withValues(StringCodec.bounds(of:))
        case .map:
            return .none
        }
    }
}

extension ByteStrings.Values {
    /// Indexes of the least and greatest value by bytes; nil when there are none.
    func extremes() -> (min: Int, max: Int)? {
        guard count > 0 else { return nil }
        var lo = 0, hi = 0
        for i in 1..<count {
            if Self.less(self[i], self[lo]) { lo = i }
            if Self.less(self[hi], self[i]) { hi = i }
        }
        return (lo, hi)
    }
}
