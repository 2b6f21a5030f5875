/// Picks a few members out of a JSON document as its bytes stream past, without keeping the
/// document: the members named in `wanted` at the top level (of the root object, or of each
/// object in a root array, where later ones win), and those named in `anywhere` at any depth.
/// Memory stays flat however large the body is; a picked value over `maxValueBytes` is dropped.
///
/// ```swift
/// var picker = JSONMemberPicker(wanted: ["model", "usage"], anywhere: ["finish_reason"])
/// picker.feed(chunk1); picker.feed(chunk2)
/// picker.value("usage")?["prompt_tokens"]
/// ```
public struct JSONMemberPicker: Sendable {
    let wanted: Set<String>
    let anywhere: Set<String>
    /// Every name of either set as bytes: a key becomes a String only when it is one of them.
    let names: [[UInt8]]
    public var maxValueBytes = 1 << 20

    var stack: [UInt8] = []
    /// Levels opened past `maxDepth`: counted, not kept, so that a body of a billion `[` costs
    /// a counter rather than a billion bytes (nothing is picked that deep).
    var extraDepth = 0
    static let maxDepth = 1024
    var inString = false, escaped = false, stringIsKey = false
    var expectingKey = false, awaitingValue = false
    var key: [UInt8] = []
    var pendingKey: String?
    /// The value being picked: its bytes from earlier chunks; those of the current chunk are
    /// copied a run at a time (from `runStart`) when it ends or the chunk does, not byte by byte.
    var capturing = false
    var capture: [UInt8] = []
    var runStart = 0
    var captureFirst: UInt8 = 0
    var captureKey = ""
    var captureDepth = 0
    var captureIsString = false
    var captureOverflow = false
    public private(set) var picked: [String: [UInt8]] = [:]

    public init(wanted: Set<String>, anywhere: Set<String> = []) {
        self.wanted = wanted
        self.anywhere = anywhere
        names = wanted.union(anywhere).map { Array($0.utf8) }
    }

    public func value(_ name: String) -> JSONValue? {
        picked[name].flatMap { try? JSONParser.parse($0) }
    }

    /// The picked members as one object; `finish_reason`/`finishReason` found at any depth are put
    /// back under `choices`/`candidates`, where the usage parsers look for them.
    public var document: JSONValue {
        var o: [String: JSONValue] = [:]
        for key in picked.keys { if let v = value(key) { o[key] = v } }
        if let f = o.removeValue(forKey: "finish_reason") { o["choices"] = .array([.object(["finish_reason": f])]) }
        if let f = o.removeValue(forKey: "finishReason") { o["candidates"] = .array([.object(["finishReason": f])]) }
        return .object(o)
    }

    /// What the usage parsers read from a whole (non-streamed) response body of any API shape.
    public static func forUsage() -> JSONMemberPicker { usageTemplate }

    /// Made once: building the sets costs more than reading a small body.
    private static let usageTemplate = JSONMemberPicker(
        wanted: ["model", "usage", "object", "status", "incomplete_details", "stop_reason", "modelVersion", "usageMetadata"],
        anywhere: ["finish_reason", "finishReason"])

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        let n = bytes.count
        runStart = 0
        while i < n {
            // Inside a string, skip ahead to the next quote or backslash (a picked value's bytes
            // are copied later, as a run); a key that ends in this chunk is matched where it lies,
            // without copying it. A key with an escape or cut by the chunk's end goes byte by
            // byte (scanned once: a scan on every byte of it would be quadratic).
            if inString && !escaped && (!stringIsKey || key.isEmpty) {
                var j = i
                while j < n, bytes[j] != 0x22, bytes[j] != 0x5C { j += 1 }
                if !stringIsKey {
                    i = j
                    if i == n { break }
                } else if j < n && bytes[j] == 0x22 && key.isEmpty {
                    pendingKey = name(UnsafeRawBufferPointer(rebasing: bytes[i..<j]))
                    inString = false
                    i = j + 1
                    continue
                } else if j > i {
                    for b in UnsafeRawBufferPointer(rebasing: bytes[i..<j]) { appendKey(b) }
                    i = j
                    if i == n { break }
                }
            }
            step(bytes, i)
            i += 1
        }
        if capturing { keepRun(bytes, upTo: n, seen: n) }
    }

    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { feed($0) }
    }

    @inline(__always) mutating func step(_ bytes: UnsafeRawBufferPointer, _ i: Int) {
        let b = bytes[i]
        if inString {
            if escaped { escaped = false; if stringIsKey { appendKey(b) }; return }
            if b == 0x5C { escaped = true; if stringIsKey { appendKey(b) }; return }
            if b == 0x22 {
                inString = false
                if stringIsKey { pendingKey = key.withUnsafeBytes { name($0) } }
                else if capturing && captureIsString && stack.count == captureDepth { endCapture(bytes, end: i + 1, seen: i + 1) }
                return
            }
            if stringIsKey { appendKey(b) }
            return
        }
        switch b {
        case 0x22:   // "
            inString = true
            stringIsKey = expectingKey && stack.last == 0x7B
            if stringIsKey { key.removeAll(keepingCapacity: true); expectingKey = false }
            else if awaitingValue { startValue(at: i, first: b, string: true) }
        case 0x3A:   // :
            awaitingValue = true
        case 0x7B, 0x5B:   // { [
            if awaitingValue { startValue(at: i, first: b, string: false) }
            guard stack.count < Self.maxDepth else { extraDepth += 1; awaitingValue = false; return }
            stack.append(b)
            expectingKey = b == 0x7B
            pendingKey = nil
        case 0x7D, 0x5D:   // } ]
            if extraDepth > 0 { extraDepth -= 1; awaitingValue = false; return }
            if capturing && !captureIsString && stack.count == captureDepth && !isContainerCapture {
                endCapture(bytes, end: i, seen: i + 1)       // a number, true, false or null ended by the bracket
            }
            if !stack.isEmpty { stack.removeLast() }
            if capturing && stack.count == captureDepth && isContainerCapture { endCapture(bytes, end: i + 1, seen: i + 1) }
            awaitingValue = false
        case 0x2C:   // ,
            if capturing && !captureIsString && !isContainerCapture && stack.count == captureDepth { endCapture(bytes, end: i, seen: i + 1) }
            expectingKey = stack.last == 0x7B
            awaitingValue = false
        case 0x20, 0x0A, 0x0D, 0x09:
            break
        default:
            if awaitingValue { startValue(at: i, first: b, string: false) }
        }
    }

    /// The key as a String when it is one of the names looked for.
    private func name(_ key: UnsafeRawBufferPointer) -> String? {
        for name in names where name.count == key.count && name.elementsEqual(key) {
            return String(decoding: key, as: UTF8.self)
        }
        return nil
    }

    var isContainerCapture: Bool { captureFirst == 0x7B || captureFirst == 0x5B }

    @inline(__always) mutating func appendKey(_ b: UInt8) { if key.count < 256 { key.append(b) } }

    mutating func startValue(at i: Int, first: UInt8, string: Bool) {
        awaitingValue = false
        guard !capturing, extraDepth == 0, let k = pendingKey else { return }
        pendingKey = nil
        let memberDepth = stack.first == 0x5B ? 2 : 1
        guard (stack.count == memberDepth && wanted.contains(k)) || anywhere.contains(k) else { return }
        capturing = true
        capture.removeAll(keepingCapacity: true)
        runStart = i
        captureFirst = first
        captureKey = k
        captureDepth = stack.count
        captureIsString = string
        captureOverflow = false
    }

    /// Adds this chunk's run of the value up to `end`; `seen` counts the byte that ended a
    /// scalar too, so that the bound applies as to every byte read for the value.
    mutating func keepRun(_ bytes: UnsafeRawBufferPointer, upTo end: Int, seen: Int) {
        guard !captureOverflow else { return }
        if capture.count + (seen - runStart) > maxValueBytes { captureOverflow = true; return }
        capture.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<end]))
    }

    mutating func endCapture(_ bytes: UnsafeRawBufferPointer, end: Int, seen: Int) {
        keepRun(bytes, upTo: end, seen: seen)
        if !captureOverflow { picked[captureKey] = capture }
        capturing = false
    }
}
