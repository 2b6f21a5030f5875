/// Each group's key numbers (one per GROUP BY column, see `GroupTable`), stored flat: `width`
/// numbers a group in one array, rather than an array of its own per group, which cost an
/// allocation and a free per group (a grouping by 5,000 users made 185,000 of them a query).
///
/// ```swift
/// var keys = GroupKeys(width: 2)
/// keys.append(3, 7)          // group 0
/// keys[0, 1]                 // 7
/// keys.column(0)             // [3]
/// ```
struct GroupKeys {
    let width: Int
    private(set) var numbers: [UInt32] = []

    init(width: Int) { self.width = max(width, 1) }

    var count: Int { numbers.count / width }
    var isEmpty: Bool { numbers.isEmpty }

    /// Key number `k` of group `g`.
    subscript(g: Int, k: Int) -> UInt32 { numbers[g * width + k] }

    mutating func append(_ a: UInt32, _ b: UInt32) { numbers.append(a); numbers.append(b) }
    mutating func append(_ a: UInt32, _ b: UInt32, _ c: UInt32) { numbers.append(a); numbers.append(b); numbers.append(c) }

    /// Appends groups given as flat numbers (`width` a group).
    mutating func append(flat: [UInt32]) { numbers += flat }

    /// Key number `k` of every group, in group order.
    func column(_ k: Int) -> [UInt32] { stride(from: k, to: numbers.count, by: width).map { numbers[$0] } }
}
