/// A growable buffer of plain values that owns its memory: what `RowGroupBuilder` appends each
/// record's fields to. An append is a bounds check, a store and an increment; `Array.append` also
/// checks uniqueness through a runtime call, which cost a fifth of the write path's CPU.
/// Not copyable, so two owners can never share (and free) one buffer.
///
/// ```swift
/// var ints = ColumnBuffer<Int64>()
/// ints.append(7); ints.append(9)
/// ints.array                 // [7, 9]
/// ints.removeAll()           // keeps the memory for the next row group
/// ```
struct ColumnBuffer<T: BitwiseCopyable>: ~Copyable {
    fileprivate(set) var base: UnsafeMutablePointer<T>
    fileprivate(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always) mutating func append(_ v: T) {
        if count == capacity { grow(to: count + 1) }
        base[count] = v
        count &+= 1
    }

    mutating func removeAll() { count = 0 }

    var buffer: UnsafeBufferPointer<T> { UnsafeBufferPointer(start: base, count: count) }

    /// A copy of the values, for the page encoders.
    var array: [T] { Array(buffer) }

    @inline(never) fileprivate mutating func grow(to needed: Int) {
        var size = capacity * 2
        while size < needed { size *= 2 }
        let bigger = UnsafeMutablePointer<T>.allocate(capacity: size)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = size
    }
}

extension ColumnBuffer<UInt8> {
    /// Bytes (mostly short strings) copied inline rather than by a call.
    @inline(__always) mutating func append(bytes b: UnsafeBufferPointer<UInt8>) {
        guard let from = b.baseAddress else { return }
        if count &+ b.count > capacity { grow(to: count + b.count) }
        ByteCopy.copy(to: base + count, from: from, count: b.count)
        count &+= b.count
    }
}
