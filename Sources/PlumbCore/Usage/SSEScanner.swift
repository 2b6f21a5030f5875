#if canImport(Glibc)
import Glibc
#endif

/// One server-sent event: its `event:` name, its `data:` lines joined by "\n", and its raw bytes
/// exactly as they arrived (blank line included), so a proxy can forward or drop it whole.
public struct SSEEvent: Sendable, Equatable {
    public var name: String?
    public var data: [UInt8]
    public var raw: [UInt8]

    public init(name: String? = nil, data: [UInt8], raw: [UInt8]) {
        self.name = name; self.data = data; self.raw = raw
    }
}

/// Splits a byte stream into server-sent events as the bytes arrive (WHATWG HTML, "Server-sent
/// events": lines end in CRLF, LF or CR; a blank line ends an event; `:` starts a comment).
/// An event larger than `maxEventBytes` is dropped from parsing (its bytes are still returned
/// raw), so a hostile stream cannot grow memory without bound.
///
/// ```swift
/// var scanner = SSEScanner()
/// for event in scanner.feed(bytes) { parser.event(event) }
/// ```
public struct SSEScanner: Sendable {
    public let maxEventBytes: Int
    var pending: [UInt8] = []
    /// Where scanning for the end of an event resumes in `pending`.
    var scanFrom = 0
    /// Bytes of an oversized event already passed on raw.
    var skipping = false
    /// A CR has arrived: line ends are searched byte by byte from then on, not with memchr for LF.
    var sawCR = false

    public init(maxEventBytes: Int = 8 << 20) { self.maxEventBytes = maxEventBytes }

    /// The events completed by `bytes`; bytes after the last complete event are kept for later.
    public mutating func feed(_ bytes: [UInt8]) -> [SSEEvent] {
        bytes.withUnsafeBytes { feed($0) }
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>) -> [SSEEvent] {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Non-generic on purpose: called per network chunk from other modules, where a generic
    /// would run unspecialized, byte by byte through witness tables. The scan runs over raw
    /// pointers: a stream's chunks are small and many, and array indexing per byte was most of
    /// a chunk's scanning cost.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [SSEEvent] {
        pending.append(contentsOf: bytes)
        if !sawCR, let base = bytes.baseAddress, memchr(base, 0x0D, bytes.count) != nil { sawCR = true }
        let anyCR = sawCR
        var events: [SSEEvent] = []
        var start = 0
        var i = scanFrom
        var skip = skipping
        pending.withUnsafeBufferPointer { p in
            let n = p.count
            while i < n {
                // An event ends at a line end followed by another line end (LF LF, CR CR, CRLF CRLF, ...).
                i = Self.lineEnd(p, from: i, anyCR: anyCR)
                guard i < n else { break }
                guard let end = Self.blankLineEnd(p, lineEnd: i) else {
                    i += 1
                    continue
                }
                if end < 0 { break }   // need more bytes to decide (a CR at the very end)
                let raw = UnsafeBufferPointer(rebasing: p[start..<end])
                if skip { skip = false; events.append(SSEEvent(name: nil, data: [], raw: Array(raw))) }
                else { events.append(Self.parse(raw)) }
                start = end
                i = end
            }
        }
        skipping = skip
        if start > 0 { pending.removeFirst(start) }
        scanFrom = max(0, i - start)
        if pending.count > maxEventBytes {
            // Oversized: hand the bytes on raw, unparsed, and ignore the rest of this event.
            events.append(SSEEvent(name: nil, data: [], raw: pending))
            pending.removeAll(keepingCapacity: false)
            scanFrom = 0
            skipping = true
        }
        return events
    }

    /// Whatever is left at the end of the stream (an event without its blank line), raw.
    public mutating func finish() -> SSEEvent? {
        defer { pending = []; scanFrom = 0 }
        guard !pending.isEmpty else { return nil }
        return skipping ? SSEEvent(name: nil, data: [], raw: pending) : Self.parse(pending)
    }

    /// The index of the next CR or LF at or after `i` (`p.count` if none).
    @inline(__always)
    static func lineEnd(_ p: UnsafeBufferPointer<UInt8>, from i: Int, anyCR: Bool) -> Int {
        let n = p.count
        guard i < n else { return n }
        if !anyCR {
            guard let hit = memchr(p.baseAddress! + i, 0x0A, n - i) else { return n }
            return p.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
        var j = i
        while j < n && p[j] != 0x0A && p[j] != 0x0D { j += 1 }
        return j
    }

    /// If a line ends at `i` and the next line is blank, the index after that blank line; -1 if
    /// the bytes so far cannot tell; nil if not.
    static func blankLineEnd(_ b: UnsafeBufferPointer<UInt8>, lineEnd i: Int) -> Int? {
        let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
        var j: Int
        if b[i] == lf { j = i + 1 }
        else if b[i] == cr {
            guard i + 1 < b.count else { return -1 }
            j = b[i + 1] == lf ? i + 2 : i + 1
        } else { return nil }
        guard j < b.count else { return -1 }
        if b[j] == lf { return j + 1 }
        if b[j] == cr {
            guard j + 1 < b.count else { return -1 }
            return b[j + 1] == lf ? j + 2 : j + 1
        }
        return nil
    }

    static func parse(_ raw: [UInt8]) -> SSEEvent {
        raw.withUnsafeBufferPointer { parse($0) }
    }

    static func parse(_ raw: UnsafeBufferPointer<UInt8>) -> SSEEvent {
        var name: String?
        var data: [UInt8] = []
        var hasData = false
        var lineStart = 0
        var i = 0
        func line(_ s: Int, _ e: Int) {
            guard e > s, raw[s] != UInt8(ascii: ":") else { return }
            var colon = s
            while colon < e && raw[colon] != UInt8(ascii: ":") { colon += 1 }
            var valueStart = min(colon + 1, e)
            if valueStart < e && raw[valueStart] == 0x20 { valueStart += 1 }
            let field = raw[s..<colon]
            if field.elementsEqual("data".utf8) {
                if hasData { data.append(0x0A) }
                data.append(contentsOf: raw[valueStart..<e]); hasData = true
            } else if field.elementsEqual("event".utf8) {
                name = String(decoding: raw[valueStart..<e], as: UTF8.self)
            }
        }
        let anyCR = raw.baseAddress.map { memchr($0, 0x0D, raw.count) != nil } ?? false
        while true {
            i = lineEnd(raw, from: i, anyCR: anyCR)
            guard i < raw.count else { break }
            line(lineStart, i)
            if raw[i] == 0x0D && i + 1 < raw.count && raw[i + 1] == 0x0A { i += 1 }
            i += 1
            lineStart = i
        }
        line(lineStart, raw.count)
        return SSEEvent(name: name, data: data, raw: Array(raw))
    }
}
