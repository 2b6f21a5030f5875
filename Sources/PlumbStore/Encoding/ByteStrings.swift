#if canImport(Glibc)
import Glibc
#endif

/// Strings as UTF-8 bytes back to back with where each ends: what page encoders read. The write
/// path fills it straight from WAL records, so a span's strings never become `String`s there.
///
/// ```swift
/// var s = ByteStrings()
/// s.append("gpt-4o"); s.append("claude")
/// s.withValues { v in v.count }       // 2; v[1] is the bytes of "claude"
/// ```
public struct ByteStrings: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var ends: [Int] = []

    public init() {}

    /// Values already laid out: `ends[i]` is where value `i` ends in `bytes`.
    init(bytes: [UInt8], ends: [Int]) {
        self.bytes = bytes
        self.ends = ends
    }

    public init(_ strings: [String]) {
        ends.reserveCapacity(strings.count)
        for s in strings { append(s) }
    }

    public var count: Int { ends.count }

    public mutating func append(_ s: String) {
        bytes.append(contentsOf: s.utf8)
        ends.append(bytes.count)
    }

    @inline(__always) public mutating func append(_ b: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: b)
        ends.append(bytes.count)
    }

    /// Appends one value written by `body` (an encoder that writes through a `ByteWriter`).
    @inline(__always) public mutating func append(writing body: (inout ByteWriter) -> Void) {
        var w = ByteWriter()
        swap(&w.bytes, &bytes)
        body(&w)
        swap(&w.bytes, &bytes)
        ends.append(bytes.count)
    }

    /// Appends values `range` of `other`.
    public mutating func append(_ other: ByteStrings, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        let from = other.byteRange(range)
        let shift = bytes.count - from.lowerBound
        bytes.append(contentsOf: other.bytes[from])
        for i in range { ends.append(other.ends[i] + shift) }
    }

    /// Where values `range` lie in `bytes`.
    public func byteRange(_ range: Range<Int>) -> Range<Int> {
        let lo = range.lowerBound == 0 ? 0 : ends[range.lowerBound - 1]
        return lo..<(range.isEmpty ? lo : ends[range.upperBound - 1])
    }

    /// Room for `values` values of `bytes` bytes in all, so appending that much never reallocates.
    public mutating func reserve(bytes: Int, values: Int) {
        self.bytes.reserveCapacity(bytes)
        ends.reserveCapacity(values)
    }

    public var byteCount: Int { bytes.count }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    /// Runs `body` with random access to the values as byte buffers.
    public func withValues<R>(_ body: (Values) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { b in try ends.withUnsafeBufferPointer { e in try body(Values(base: b, ends: e)) } }
    }

    public struct Values {
        let base: UnsafeBufferPointer<UInt8>
        let ends: UnsafeBufferPointer<Int>

        public var count: Int { ends.count }

        @inline(__always) public subscript(i: Int) -> UnsafeBufferPointer<UInt8> {
            let start = i == 0 ? 0 : ends[i &- 1]
            return UnsafeBufferPointer(rebasing: base[start..<ends[i]])
        }

        @inline(__always) public func length(_ i: Int) -> Int { ends[i] &- (i == 0 ? 0 : ends[i &- 1]) }

        public func string(_ i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

        /// Byte order, as the store sorts strings (see `UTF8Bytes`).
        @inline(__always) public static func less(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
            let n = min(x.count, y.count)
            let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
            return c != 0 ? c < 0 : x.count < y.count
        }
    }
}
