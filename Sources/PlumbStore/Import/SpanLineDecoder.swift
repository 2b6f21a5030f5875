import PlumbCore

#if canImport(Glibc)
import Glibc
#endif

/// The byte-level scanner of `plumb import`: one span-schema-v1 JSON line straight to its WAL
/// record (`SpanRecord`'s layout), with no `JSONValue`, `String`, dictionary or `Span` on the way
/// (`Span(jsonBytes:)` then `SpanRecords.append` cost about 6 µs a line; this about a fifth).
///
/// It takes the lines a well-formed export holds and declines (`false`) every line it does not
/// fully understand, and every line that is wrong: the caller then decodes that line through
/// `Span(jsonBytes:)`, so a bad line is told that path's message word for word, and what this
/// scanner accepts must decode to what that path makes (the `json` fuzz target checks it on
/// every input; `SpanLineDecoderTests` on the shapes that matter).
///
/// ```swift
/// var decoder = SpanLineDecoder(maxBodyBytes: 1 << 20)
/// var records = SpanRecords()
/// if !decoder.decode(line, into: &records) { records.append(try Span(jsonBytes: line)) }
/// ```
/// Declined, besides errors: integers over 18 digits, numbers past Clinger's fast path (over 2^53
/// in their digits, or 10^±23 and beyond), hex ids holding more than ASCII, escaped keys; all
/// rare in exports, all handled by the general path.
struct SpanLineDecoder {
    /// A body over this many bytes is left out of the record (as `SpanStore` caps them).
    let maxBodyBytes: Int
    /// Set by `decode`: the span's `ts_start`, and whether a body was left out.
    private(set) var tsStart: Int64 = 0
    private(set) var droppedBody = false

    private var fields = [Token](repeating: Token(), count: SpanSchema.columns.count)
    // Instance copies of constant tables: a static's every use goes through swift_once.
    private let keys = KeyTable()
    private let textColumns = SpanLineDecoder.textColumns, hexColumns = SpanLineDecoder.hexColumns
    private let intColumns = SpanLineDecoder.intColumns, doubleColumns = SpanLineDecoder.doubleColumns
    private let requiredColumns = SpanLineDecoder.required
    private let maskBit = SpanLineDecoder.maskBit
    private let powersOfTen = SpanLineDecoder.powersOfTen
    private var properties: [(key: Token, value: Token)] = []
    private var scratch: [UInt8] = []
    /// Where a record is written before it is appended: kept from line to line (a temporary
    /// allocation of a typical line's bound is a malloc and free each time).
    private let room = Room()

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        properties.reserveCapacity(16)
    }

    /// One scanned value: where it lies in the line, or what it is.
    struct Token {
        /// `plainString`: printable ASCII; `utf8String`: other bytes too, but no escapes (bytes
        /// kept as they are once validated); `string`: escapes to undo.
        enum Kind: UInt8 { case absent, null, bool, int, double, plainString, utf8String, string, object }
        var kind = Kind.absent
        /// A string's bytes between its quotes, an object's from `{` to past `}`.
        var start = 0, end = 0
        /// An int, a double's bit pattern, or a bool (0 or 1).
        var bits: Int64 = 0
    }

    /// A property object holding more entries than this goes the general way.
    static let maxProperties = 64

    // Column indexes in `SpanSchema.columns`.
    private enum C {
        static let spanID = 0, traceID = 1, parentSpanID = 2, sessionID = 3, userID = 4
        static let tsStart = 5, tsEnd = 6, latency = 7, ttft = 8, upstream = 9
        static let provider = 10, modelRequested = 11, model = 12, operation = 13, endpoint = 14, method = 15
        static let stream = 16, status = 17, errorType = 18, finishReason = 19
        static let input = 20, output = 21, cacheRead = 22, cacheWrite = 23, reasoning = 24, cost = 25
        static let requestBytes = 26, responseBytes = 27, apiKeyHash = 28, properties = 29
        static let requestBody = 30, responseBody = 31
    }

    /// Appends the line's record to `records` and answers true, or answers false and leaves
    /// `records` as it was.
    mutating func decode(_ line: UnsafeBufferPointer<UInt8>, into records: inout SpanRecords) -> Bool {
        guard let base = line.baseAddress, line.count > 0, scan(base, line.count) else { return false }
        // Every record is shorter than this: each value's record form is at most a few bytes
        // longer than its JSON member (key, quotes, separators); defaults add under 64.
        room.ensure(2 * line.count + 1024)
        var w = RawWriter(base: room.base)
        guard write(base, into: &w) else { return false }
        records.append(encodedRecord: UnsafeBufferPointer(start: room.base, count: w.pos))
        return true
    }

    // MARK: Scanning

    @inline(__always) private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// Fills `fields` (and `properties`) from the line's one object; false for anything else.
    private mutating func scan(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        for k in fields.indices { fields[k].kind = .absent }
        properties.removeAll(keepingCapacity: true)
        var i = 0
        @inline(__always) func skip() { while i < n && Self.isSpace(p[i]) { i += 1 } }
        skip()
        guard i < n, p[i] == UInt8(ascii: "{") else { return false }
        i += 1
        skip()
        guard i < n, p[i] != UInt8(ascii: "}") else { return false }   // {}: required columns missing
        var seen: UInt64 = 0
        while true {
            guard i < n, p[i] == UInt8(ascii: "\"") else { return false }
            let keyStart = i + 1
            var k = keyStart
            while k < n, p[k] != UInt8(ascii: "\""), p[k] != UInt8(ascii: "\\"), p[k] >= 0x20 { k += 1 }
            guard k < n, p[k] == UInt8(ascii: "\""), let column = keys.column(p, keyStart, k - keyStart, n) else { return false }
            guard seen & (1 << UInt64(column)) == 0 else { return false }     // a duplicate: the later wins there
            seen |= 1 << UInt64(column)
            i = k + 1
            skip()
            guard i < n, p[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skip()
            guard let token = value(p, n, &i, objectAllowed: column == C.properties) else { return false }
            fields[column] = token
            skip()
            guard i < n else { return false }
            if p[i] == UInt8(ascii: ",") { i += 1; skip(); continue }
            guard p[i] == UInt8(ascii: "}") else { return false }
            i += 1
            break
        }
        skip()
        return i == n
    }

    private mutating func value(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, objectAllowed: Bool) -> Token? {
        guard i < n else { return nil }
        switch p[i] {
        case UInt8(ascii: "\""): return string(p, n, &i)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number(p, n, &i)
        case UInt8(ascii: "t"): return literal(p, n, &i, "true") ? Token(kind: .bool, bits: 1) : nil
        case UInt8(ascii: "f"): return literal(p, n, &i, "false") ? Token(kind: .bool, bits: 0) : nil
        case UInt8(ascii: "n"): return literal(p, n, &i, "null") ? Token(kind: .null) : nil
        case UInt8(ascii: "{") where objectAllowed: return object(p, n, &i)
        default: return nil
        }
    }

    private func literal(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, _ word: StaticString) -> Bool {
        let m = word.utf8CodeUnitCount
        guard i + m <= n, memcmp(p + i, word.utf8Start, m) == 0 else { return false }
        i += m
        return true
    }

    /// A string: `.plainString` when its bytes are printable ASCII as they stand, `.string` when
    /// they hold escapes or other bytes (unescaped and validated as they are written).
    private func string(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> Token? {
        let start = i + 1
        var k = start
        while k < n {
            let b = p[k]
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
            k += 1
        }
        guard k < n else { return nil }
        if p[k] == UInt8(ascii: "\"") { i = k + 1; return Token(kind: .plainString, start: start, end: k) }
        var escaped = false
        while k < n {
            let b = p[k]
            if b == UInt8(ascii: "\"") { i = k + 1; return Token(kind: escaped ? .string : .utf8String, start: start, end: k) }
            if b < 0x20 { return nil }
            if b == UInt8(ascii: "\\") { escaped = true; k += 2 } else { k += 1 }
        }
        return nil
    }

    fileprivate static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { r, _ in r * 10 } }

    /// Integers of up to 18 digits exactly; other numbers whose digits fit 2^53 and whose decimal
    /// exponent (after the point and `e`) is within ±22 as `digits / 10^k` or `digits × 10^k`:
    /// both operands are exact, so the one correctly rounded operation gives the same double as
    /// `Double(text)`'s strtod (Clinger's fast path).
    private func number(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> Token? {
        var k = i
        let negative = p[k] == UInt8(ascii: "-")
        if negative { k += 1 }
        guard k < n, p[k] >= 0x30, p[k] <= 0x39 else { return nil }
        var digits: UInt64 = 0, count = 0
        if p[k] == 0x30 {
            k += 1
            if k < n, p[k] >= 0x30, p[k] <= 0x39 { return nil }          // a leading zero
        } else {
            while k < n, p[k] >= 0x30, p[k] <= 0x39 {
                guard count < 19 else { return nil }
                digits = digits &* 10 &+ UInt64(p[k] &- 0x30); count += 1; k += 1
            }
        }
        var fraction = -1
        if k < n, p[k] == UInt8(ascii: ".") {
            k += 1
            fraction = 0
            while k < n, p[k] >= 0x30, p[k] <= 0x39 {
                guard count < 19 else { return nil }
                digits = digits &* 10 &+ UInt64(p[k] &- 0x30); count += 1; fraction += 1; k += 1
            }
            guard fraction > 0 else { return nil }
        }
        var exponent = 0
        let hasExponent = k < n && (p[k] == UInt8(ascii: "e") || p[k] == UInt8(ascii: "E"))
        if hasExponent {
            k += 1
            var sign = 1
            if k < n, p[k] == UInt8(ascii: "+") || p[k] == UInt8(ascii: "-") { sign = p[k] == UInt8(ascii: "-") ? -1 : 1; k += 1 }
            var expDigits = 0
            while k < n, p[k] >= 0x30, p[k] <= 0x39 {
                guard expDigits < 4 else { return nil }
                exponent = exponent * 10 + Int(p[k] &- 0x30); expDigits += 1; k += 1
            }
            guard expDigits > 0 else { return nil }
            exponent *= sign
        }
        i = k
        if fraction < 0 && !hasExponent {
            guard count <= 18 else { return nil }
            let v = Int64(digits)
            return Token(kind: .int, bits: negative ? -v : v)
        }
        // digits × 10^e: exact operands and one rounding whenever |e| ≤ 22 and digits ≤ 2^53.
        let e = exponent - max(fraction, 0)
        guard digits <= 1 << 53, e >= -22, e <= 22 else { return nil }
        let d = e < 0 ? Double(digits) / powersOfTen[-e] : Double(digits) * powersOfTen[e]
        return Token(kind: .double, bits: Int64(bitPattern: (negative ? -d : d).bitPattern))
    }

    /// `properties`: an object of strings, its entries kept in `properties`.
    private mutating func object(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> Token? {
        let start = i
        i += 1
        @inline(__always) func skip() { while i < n && Self.isSpace(p[i]) { i += 1 } }
        skip()
        guard i < n else { return nil }
        if p[i] == UInt8(ascii: "}") { i += 1; return Token(kind: .object, start: start, end: i) }
        while true {
            guard i < n, p[i] == UInt8(ascii: "\""), let key = string(p, n, &i), key.kind != .string else { return nil }
            // A repeated key keeps its last value there; keys without escapes are equal when their bytes are.
            for e in properties where e.key.end - e.key.start == key.end - key.start
                && memcmp(p + e.key.start, p + key.start, key.end - key.start) == 0 { return nil }
            skip()
            guard i < n, p[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skip()
            guard i < n, p[i] == UInt8(ascii: "\""), let value = string(p, n, &i) else { return nil }
            guard properties.count < Self.maxProperties else { return nil }
            properties.append((key, value))
            skip()
            guard i < n else { return nil }
            if p[i] == UInt8(ascii: ",") { i += 1; skip(); continue }
            guard p[i] == UInt8(ascii: "}") else { return nil }
            i += 1
            return Token(kind: .object, start: start, end: i)
        }
    }

    // MARK: Writing

    /// Column sets as bit masks over `SpanSchema.columns`.
    private static func set(_ columns: Int...) -> UInt64 { columns.reduce(0) { $0 | 1 << UInt64($1) } }
    private static let textColumns = set(C.sessionID, C.userID, C.provider, C.modelRequested, C.model, C.operation,
                                         C.endpoint, C.method, C.errorType, C.finishReason, C.requestBody, C.responseBody)
    private static let hexColumns = set(C.spanID, C.traceID, C.parentSpanID, C.apiKeyHash)
    private static let intColumns = set(C.status, C.input, C.output, C.cacheRead, C.cacheWrite, C.reasoning,
                                        C.requestBytes, C.responseBytes)
    private static let doubleColumns = set(C.latency, C.ttft, C.upstream, C.cost)
    private static let required = set(C.spanID, C.tsStart, C.provider, C.status)
    /// The record's presence mask bit of each optional column (`SpanRecord.write`), or -1.
    private static let maskBit: [Int8] = {
        var bits = [Int8](repeating: -1, count: SpanSchema.columns.count)
        for (bit, c) in [C.traceID, C.parentSpanID, C.sessionID, C.userID, C.ttft, C.modelRequested, C.model,
                         C.errorType, C.finishReason, C.input, C.output, C.cacheRead, C.cacheWrite, C.reasoning,
                         C.cost, C.apiKeyHash, C.requestBody, C.responseBody].enumerated() { bits[c] = Int8(bit) }
        return bits
    }()

    /// The record of the scanned fields, by the rules of `Span.init(slots:)`, written into `w`'s
    /// room; false where those rules fail (a required column missing, a wrong type, ts_end before
    /// ts_start, an id that is not hex, a string that is not UTF-8, ...).
    private mutating func write(_ p: UnsafePointer<UInt8>, into w: inout RawWriter) -> Bool {
        let f = fields
        // Which columns are given (present and not null), and that each has its type.
        var given: UInt64 = 0
        for c in 0..<f.count {
            let kind = f[c].kind
            guard kind != .absent && kind != .null else { continue }
            given |= 1 << UInt64(c)
            let bit: UInt64 = 1 << UInt64(c)
            let ok: Bool
            if (textColumns | hexColumns) & bit != 0 { ok = kind == .plainString || kind == .utf8String || kind == .string }
            else if intColumns & bit != 0 { ok = kind == .int }
            else if doubleColumns & bit != 0 { ok = kind == .int || kind == .double }
            else if c == C.tsStart || c == C.tsEnd { ok = kind == .int || kind == .plainString }
            else if c == C.stream { ok = kind == .bool }
            else { ok = kind == .object }                           // properties
            guard ok else { return false }
        }
        guard given & requiredColumns == requiredColumns else { return false }
        @inline(__always) func has(_ c: Int) -> Bool { given & (1 << UInt64(c)) != 0 }
        guard isHex(f[C.spanID], p, 32, 32), !has(C.traceID) || isHex(f[C.traceID], p, 32, 32),
              !has(C.parentSpanID) || isHex(f[C.parentSpanID], p, 16, 32),
              !has(C.apiKeyHash) || isHex(f[C.apiKeyHash], p, 16, 16) else { return false }
        guard let start = timestamp(f[C.tsStart], p) else { return false }
        var end = start
        if has(C.tsEnd) { guard let e = timestamp(f[C.tsEnd], p), e >= start else { return false }; end = e }
        let latency = has(C.latency) ? double(f[C.latency]) : Double(end - start) / 1000
        droppedBody = false
        for c in C.requestBody...C.responseBody where has(c) {
            guard let fits = fitsBody(f[c], p) else { return false }
            if !fits { given &= ~(1 << UInt64(c)); droppedBody = true }
        }

        var mask: UInt32 = has(C.stream) && f[C.stream].bits == 1 ? 1 << 18 : 0
        var optional = given
        while optional != 0 {
            let c = optional.trailingZeroBitCount
            optional &= optional - 1
            let bit = maskBit[c]
            if bit >= 0 { mask |= 1 << UInt32(bit) }
        }
        w.varint(UInt64(mask))
        hex(f[C.spanID], p, &w)
        if has(C.traceID) { hex(f[C.traceID], p, &w) }
        if has(C.parentSpanID) { hex(f[C.parentSpanID], p, &w) }
        if has(C.sessionID) { guard text(f[C.sessionID], p, &w) else { return false } }
        if has(C.userID) { guard text(f[C.userID], p, &w) else { return false } }
        w.svarint(start); w.svarint(end &- start)
        w.f64(latency)
        if has(C.ttft) { w.f64(double(f[C.ttft])) }
        w.f64(has(C.upstream) ? double(f[C.upstream]) : latency)
        guard text(f[C.provider], p, &w) else { return false }
        if has(C.modelRequested) { guard text(f[C.modelRequested], p, &w) else { return false } }
        if has(C.model) { guard text(f[C.model], p, &w) else { return false } }
        if has(C.operation) { guard text(f[C.operation], p, &w) else { return false } } else { w.staticString("other") }
        if has(C.endpoint) { guard text(f[C.endpoint], p, &w) else { return false } } else { w.varint(0) }
        if has(C.method) { guard text(f[C.method], p, &w) else { return false } } else { w.staticString("POST") }
        w.svarint(f[C.status].bits)
        if has(C.errorType) { guard text(f[C.errorType], p, &w) else { return false } }
        if has(C.finishReason) { guard text(f[C.finishReason], p, &w) else { return false } }
        for c in C.input...C.reasoning where has(c) { w.svarint(f[c].bits) }
        if has(C.cost) { w.f64(double(f[C.cost])) }
        w.svarint(has(C.requestBytes) ? f[C.requestBytes].bits : 0)
        w.svarint(has(C.responseBytes) ? f[C.responseBytes].bits : 0)
        if has(C.apiKeyHash) { hex(f[C.apiKeyHash], p, &w) }
        if has(C.properties) {
            let entries = properties
            w.varint(UInt64(entries.count))
            for (key, value) in entries {
                guard text(key, p, &w), text(value, p, &w) else { return false }
            }
        } else {
            w.varint(0)
        }
        if has(C.requestBody) { guard text(f[C.requestBody], p, &w) else { return false } }
        if has(C.responseBody) { guard text(f[C.responseBody], p, &w) else { return false } }
        tsStart = start
        return true
    }

    @inline(__always) private func double(_ t: Token) -> Double {
        t.kind == .int ? Double(t.bits) : Double(bitPattern: UInt64(bitPattern: t.bits))
    }

    private func timestamp(_ t: Token, _ p: UnsafePointer<UInt8>) -> Int64? {
        if t.kind == .int { return t.bits }
        return Timestamp.parseIfValid(UnsafeBufferPointer(start: p + t.start, count: t.end - t.start))
    }

    private func isHex(_ t: Token, _ p: UnsafePointer<UInt8>, _ a: Int, _ b: Int) -> Bool {
        guard t.kind == .plainString, t.end - t.start == a || t.end - t.start == b else { return false }
        for k in t.start..<t.end {
            let c = p[k] | 0x20            // A-F to a-f; digits keep their value
            guard (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) else { return false }
        }
        return true
    }

    /// A hex id, lowercased (`isHex` has passed).
    private func hex(_ t: Token, _ p: UnsafePointer<UInt8>, _ w: inout RawWriter) {
        w.varint(UInt64(t.end - t.start))
        for k in t.start..<t.end { w.base[w.pos] = p[k] | 0x20; w.pos += 1 }
    }

    /// A string as the record holds it: escapes undone, UTF-8 checked; false when it is not.
    private mutating func text(_ t: Token, _ p: UnsafePointer<UInt8>, _ w: inout RawWriter) -> Bool {
        if t.kind == .plainString {
            w.bytes(p + t.start, count: t.end - t.start)
            return true
        }
        if t.kind == .utf8String {
            guard UTF8Validation.isValid(UnsafeBufferPointer(start: p + t.start, count: t.end - t.start)) else { return false }
            w.bytes(p + t.start, count: t.end - t.start)
            return true
        }
        guard unescape(t, p), UTF8Validation.isValid(scratch) else { return false }
        scratch.withUnsafeBufferPointer { w.bytes($0.baseAddress!, count: $0.count) }
        return true
    }

    /// Whether a body fits `maxBodyBytes` (then `text` checks it as it writes it); nil when it
    /// does not and is not a valid string either (the line is wrong, left out or not).
    private mutating func fitsBody(_ t: Token, _ p: UnsafePointer<UInt8>) -> Bool? {
        // Escapes only shorten: a body whose raw bytes fit, fits.
        if t.end - t.start <= maxBodyBytes { return true }
        switch t.kind {
        case .plainString: return false
        case .utf8String: return UTF8Validation.isValid(UnsafeBufferPointer(start: p + t.start, count: t.end - t.start)) ? false : nil
        default:
            guard unescape(t, p), UTF8Validation.isValid(scratch) else { return nil }
            return scratch.count <= maxBodyBytes
        }
    }

    /// Undoes a string's escapes into `scratch`; false for a bad escape or an unpaired surrogate.
    @discardableResult
    private mutating func unescape(_ t: Token, _ p: UnsafePointer<UInt8>) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        var k = t.start
        while k < t.end {
            let b = p[k]
            if b != UInt8(ascii: "\\") {
                var run = k + 1
                while run < t.end && p[run] != UInt8(ascii: "\\") { run += 1 }
                scratch.append(contentsOf: UnsafeBufferPointer(start: p + k, count: run - k))
                k = run
                continue
            }
            guard k + 1 < t.end else { return false }
            let e = p[k + 1]
            k += 2
            if let simple = StringEscapes.simple(e) { scratch.append(simple); continue }
            if e == UInt8(ascii: "/") { scratch.append(0x2F); continue }
            guard e == UInt8(ascii: "u"), var scalar = hex4(p, k, t.end) else { return false }
            k += 4
            if (0xD800..<0xDC00).contains(scalar) {
                guard k + 1 < t.end, p[k] == UInt8(ascii: "\\"), p[k + 1] == UInt8(ascii: "u"),
                      let low = hex4(p, k + 2, t.end), (0xDC00..<0xE000).contains(low) else { return false }
                k += 6
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                return false
            }
            UTF8Validation.append(scalar: scalar, to: &scratch)
        }
        return true
    }

    private func hex4(_ p: UnsafePointer<UInt8>, _ at: Int, _ end: Int) -> UInt32? {
        guard at + 4 <= end else { return nil }
        var v: UInt32 = 0
        for k in at..<at + 4 {
            guard let d = StringEscapes.hexDigit(p[k]) else { return nil }
            v = v << 4 | d
        }
        return v
    }
}

extension RawWriter {
    @inline(__always) mutating func bytes(_ from: UnsafePointer<UInt8>, count: Int) {
        varint(UInt64(count))
        ByteCopy.copy(to: base + pos, from: from, count: count)
        pos &+= count
    }

    @inline(__always) mutating func staticString(_ s: StaticString) {
        bytes(s.utf8Start, count: s.utf8CodeUnitCount)
    }
}

/// A growable buffer owned by one decoder.
private final class Room {
    private(set) var base = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
    private var capacity = 4096

    func ensure(_ bytes: Int) {
        guard bytes > capacity else { return }
        base.deallocate()
        capacity = max(bytes, 2 * capacity)
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }
}

/// The span schema's column names as 8-byte words, so that a key is matched by a few loads and
/// compares instead of a memcmp call per candidate.
private struct KeyTable {
    private struct Name { let column: Int; let words: (UInt64, UInt64, UInt64) }
    private let byLength: [[Name]]

    init() {
        var buckets = [[Name]](repeating: [], count: 25)
        for (i, c) in SpanSchema.columns.enumerated() {
            let bytes = Array(c.name.utf8)
            precondition(bytes.count < 25, "a column name over 24 bytes")
            let w = (0..<3).map { Self.word(bytes, from: 8 * $0) }
            buckets[bytes.count].append(Name(column: i, words: (w[0], w[1], w[2])))
        }
        byLength = buckets
    }

    private static func word(_ b: [UInt8], from: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in stride(from: min(b.count, from + 8) - 1, through: from, by: -1) { v = v << 8 | UInt64(b[k]) }
        return v
    }

    /// The column of the key `p[start..<start+count]`; `n` bounds what may be read.
    @inline(__always) func column(_ p: UnsafePointer<UInt8>, _ start: Int, _ count: Int, _ n: Int) -> Int? {
        guard count > 0, count < byLength.count else { return nil }
        let candidates = byLength[count]
        guard !candidates.isEmpty else { return nil }
        var w: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let raw = UnsafeRawPointer(p + start)
        @inline(__always) func load(_ k: Int) -> UInt64 {
            let from = 8 * k
            guard from < count else { return 0 }
            let take = min(8, count - from)
            // Whole words where the line goes on far enough (it does but at its very end).
            if start + from + 8 <= n {
                let v = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: from, as: UInt64.self))
                return take == 8 ? v : v & ((1 << UInt64(8 * take)) - 1)
            }
            var v: UInt64 = 0
            for b in stride(from: take - 1, through: 0, by: -1) { v = v << 8 | UInt64(p[start + from + b]) }
            return v
        }
        w = (load(0), load(1), load(2))
        for name in candidates where name.words == w { return name.column }
        return nil
    }
}
