#if canImport(Glibc)
import Glibc
#endif

/// A quick look for member names in JSON text without parsing it: whether a chunk of a stream
/// can hold what a usage parser reads, so that the chunks which cannot (most of a long stream)
/// skip the parse. Conservative by construction: inside a JSON string a quote is escaped
/// (`\"usage\"`), so a quoted name followed by a colon is a real member name, and a false match
/// costs at most a needless parse.
///
/// ```swift
/// let probes = [JSONKeyProbe("\"usage\"", notNull: true)]
/// if JSONKeyProbe.any(of: probes, in: chunk) { /* parse it */ }
/// ```
public struct JSONKeyProbe: Sendable {
    /// The member name with its quotes.
    let key: StaticString
    /// Matches only when the value does not start with `n` (is not `null`).
    let notNull: Bool

    public init(_ key: StaticString, notNull: Bool) {
        self.key = key; self.notNull = notNull
    }

    /// Whether any probe's member occurs in `text`. One pass: memchr from quote to quote, each
    /// quote tried against the probes (a byte-by-byte search per name cost a microsecond a chunk).
    public static func any(of probes: [JSONKeyProbe], in text: [UInt8]) -> Bool {
        text.withUnsafeBufferPointer { any(of: probes, in: $0) }
    }

    public static func any(of probes: [JSONKeyProbe], in b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return false }
        let n = b.count
        var i = 0
        while i < n, let hit = memchr(base + i, 0x22, n - i) {
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            for p in probes where p.matches(b, at: at) { return true }
            i = at + 1
        }
        return false
    }

    /// The member name starts at `at`, is followed (after white space) by a colon and, with
    /// `notNull`, by a value other than `null`.
    func matches(_ b: UnsafeBufferPointer<UInt8>, at: Int) -> Bool {
        let k = key.utf8CodeUnitCount
        // The name's first letter decides for nearly every quote, without a call.
        guard at + k <= b.count, k < 2 || b[at + 1] == key.utf8Start[1],
              memcmp(b.baseAddress! + at, key.utf8Start, k) == 0 else { return false }
        var j = at + k
        func skipSpace() { while j < b.count && (b[j] == 0x20 || b[j] == 0x09 || b[j] == 0x0A || b[j] == 0x0D) { j += 1 } }
        skipSpace()
        guard j < b.count && b[j] == UInt8(ascii: ":") else { return false }
        guard notNull else { return true }
        j += 1
        skipSpace()
        return j >= b.count || b[j] != UInt8(ascii: "n")
    }
}
