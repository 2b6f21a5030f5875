/// Copies `n` bytes from `src` to `dst` (not overlapping). Strings in spans are mostly a few to
/// a few dozen bytes, where a call to memmove costs more than the copy: those are copied as
/// overlapping words inline.
///
/// ```swift
/// ByteCopy.copy(to: out + pos, from: name.baseAddress!, count: name.count)
/// ```
enum ByteCopy {
    @inline(__always) static func copy(to dst: UnsafeMutablePointer<UInt8>, from src: UnsafePointer<UInt8>, count n: Int) {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        @inline(__always) func word(_ at: Int) {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: at, as: UInt64.self), toByteOffset: at, as: UInt64.self)
        }
        switch n {
        case 0: return
        case 1..<4:
            dst[0] = src[0]; dst[n >> 1] = src[n >> 1]; dst[n - 1] = src[n - 1]
        case 4..<8:
            d.storeBytes(of: s.loadUnaligned(as: UInt32.self), as: UInt32.self)
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self), toByteOffset: n - 4, as: UInt32.self)
        case 8...16:
            word(0); word(n - 8)
        case 17...32:
            word(0); word(8); word(n - 16); word(n - 8)
        default:
            dst.update(from: src, count: n)
        }
    }
}
