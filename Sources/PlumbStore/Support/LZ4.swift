import CLZ4

/// LZ4 block format (no frame) through the system liblz4.
///
/// ```swift
/// let packed = LZ4.compress(bytes)
/// let back = try LZ4.decompress(packed, originalSize: bytes.count)
/// ```
public enum LZ4 {
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// `acceleration` above 1 trades ratio for speed (liblz4's LZ4_compress_fast).
    public static func compress(_ input: UnsafeRawBufferPointer, acceleration: Int32 = 1) -> [UInt8] {
        var out: [UInt8] = []
        compress(input, appendingTo: &out, acceleration: acceleration)
        return out
    }

    /// Compresses `input` onto the end of `out`; returns the compressed size.
    @discardableResult
    public static func compress(_ input: UnsafeRawBufferPointer, appendingTo out: inout [UInt8], acceleration: Int32 = 1) -> Int {
        guard input.count > 0 else { return 0 }
        precondition(input.count <= Int(LZ4_MAX_INPUT_SIZE), "LZ4 input over \(LZ4_MAX_INPUT_SIZE) bytes")
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        // Compressed into a buffer of its own, never zeroed: zero-filling the bound onto `out`
        // element by element was most of a large frame's cost in unoptimised builds.
        let packed = [UInt8](unsafeUninitializedCapacity: bound) { o, initialized in
            initialized = Int(LZ4_compress_fast(input.baseAddress!.assumingMemoryBound(to: CChar.self),
                                                UnsafeMutableRawPointer(o.baseAddress!).assumingMemoryBound(to: CChar.self),
                                                Int32(input.count), Int32(bound), acceleration))
        }
        out.append(contentsOf: packed)
        return packed.count
    }

    public static func compress(_ input: [UInt8], acceleration: Int32 = 1) -> [UInt8] {
        input.withUnsafeBytes { compress($0, acceleration: acceleration) }
    }

    public static func decompress(_ input: UnsafeRawBufferPointer, originalSize: Int) throws -> [UInt8] {
        if originalSize == 0 { return [] }
        guard input.count > 0 else { throw Error(description: "LZ4 block is empty") }
        guard originalSize <= Int(Int32.max), input.count <= Int(Int32.max) else { throw Error(description: "LZ4 block too large") }
        // An LZ4 block expands at most about 255 times (a run's length costs a byte per 255):
        // a stated size past that is a forged header, not a reason to allocate gigabytes.
        guard originalSize <= input.count &* 256 &+ 64 else {
            throw Error(description: "LZ4 block of \(input.count) bytes cannot hold \(originalSize)")
        }
        var out = [UInt8](repeating: 0, count: originalSize)
        let n = out.withUnsafeMutableBytes { o in
            LZ4_decompress_safe(input.baseAddress!.assumingMemoryBound(to: CChar.self),
                                o.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(input.count), Int32(originalSize))
        }
        guard n == Int32(originalSize) else { throw Error(description: "LZ4 block is corrupt") }
        return out
    }

    public static func decompress(_ input: [UInt8], originalSize: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws -> [UInt8] in
            try decompress(b, originalSize: originalSize)
        }
    }
}
