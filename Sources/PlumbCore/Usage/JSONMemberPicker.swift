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
    /// The names looked for, by slot: as bytes (a key becomes a slot number, never a String),
    /// as Strings for the answers, and whether each is wanted at the top level or anywhere.
    let names: [[UInt8]]
    let nameStrings: [String]
    let topLevel: [Bool]
    let anywhere: [Bool]
    public var maxValueBytes = 1 << 20

    /// The open levels: bit i of `shallowArrays` is set when level i is an array; levels past 64
    /// are kept in `deepLevels`. A call reads a few levels; it should not allocate for them.
    public private(set) var depth = 0
    var shallowArrays: UInt64 = 0
    var deepLevels: [UInt8] = []
    /// Levels opened past `maxDepth`: counted, not kept, so that a body of a billion `[` costs
    /// a counter rather than a billion bytes (nothing is picked that deep).
    var extraDepth = 0
    static let maxDepth = 1024
    var inString = false, escaped = false, stringIsKey = false
    var expectingKey = false, awaitingValue = false
    var key: [UInt8] = []
    var pendingSlot: Int?
    /// Picked values live one after another in `store`, each slot's latest as a range; the
    /// value being picked is copied in a run at a time (from `runStart` in the current chunk)
    /// when it ends or the chunk does, not byte by byte.
    var store: [UInt8] = []
    var ranges: [Range<Int>?]
    var capturing = false
    var captureStart = 0
    var runStart = 0
    var captureFirst: UInt8 = 0
    var captureSlot = 0
    var captureDepth = 0
    var captureIsString = false
    var captureOverflow = false

    public init(wanted: Set<String>, anywhere: Set<String> = []) {
        let all = wanted.union(anywhere).sorted()
        nameStrings = all
        names = all.map { Array($0.utf8) }
        topLevel = all.map { wanted.contains($0) }
        self.anywhere = all.map { anywhere.contains($0) }
        ranges = Array(repeating: nil, count: all.count)
    }

    /// The picked members' bytes by name (for tests and diagnostics; `value` and `document`
    /// read the slots directly).
    public var picked: [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for (slot, r) in ranges.enumerated() { if let r { out[nameStrings[slot]] = Array(store[r]) } }
        return out
    }

    public var isEmpty: Bool { !ranges.contains { $0 != nil } }

    public func value(_ name: String) -> JSONValue? {
        guard let slot = nameStrings.firstIndex(of: name) else { return nil }
        return value(slot: slot)
    }

    func value(slot: Int) -> JSONValue? {
        guard let r = ranges[slot] else { return nil }
        return store.withUnsafeBufferPointer { try? JSONParser.parse(bytes: UnsafeBufferPointer(rebasing: $0[r])) }
    }

    /// The picked members as one object; `finish_reason`/`finishReason` found at any depth are put
    /// back under `choices`/`candidates`, where the usage parsers look for them.
    public var document: JSONValue {
        var o: [String: JSONValue] = [:]
        o.reserveCapacity(ranges.count)
        for slot in ranges.indices { if let v = value(slot: slot) { o[nameStrings[slot]] = v } }
        if let f = o.removeValue(forKey: "finish_reason") { o["choices"] = .array([.object(["finish_reason": f])]) }
        if let f = o.removeValue(forKey: "finishReason") { o["candidates"] = .array([.object(["finishReason": f])]) }
        return .object(o)
    }

    /// What the usage parsers read from a whole (non-streamed) response body of any API shape.
    public static func forUsage() -> JSONMemberPicker { usageTemplate }

    /// Made once: building the slots costs more than reading a small body.
    private static let usageTemplate = JSONMemberPicker(
        wanted: ["model", "usage", "object", "status", "incomplete_details", "stop_reason", "modelVersion", "usageMetadata", "error",
                 "stopReason", "prompt_token_count", "generation_token_count"],
        anywhere: ["finish_reason", "finishReason"])

    /// The kind of the innermost open level (`{` or `[`), or 0 at the root.
    @inline(__always) var innermost: UInt8 { depth == 0 ? 0 : level(depth - 1) }

    @inline(__always) func level(_ i: Int) -> UInt8 {
        if i < 64 { return shallowArrays & (1 << UInt64(i)) != 0 ? 0x5B : 0x7B }
        return deepLevels[i - 64]
    }

    @inline(__always) mutating func open(_ b: UInt8) {
        if depth < 64 {
            if b == 0x5B { shallowArrays |= 1 << UInt64(depth) } else { shallowArrays &= ~(1 << UInt64(depth)) }
        } else {
            deepLevels.append(b)
        }
        depth += 1
    }

    @inline(__always) mutating func close() {
        guard depth > 0 else { return }
        depth -= 1
        if depth >= 64 { deepLevels.removeLast() }
    }

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
                    pendingSlot = slot(UnsafeRawBufferPointer(rebasing: bytes[i..<j]))
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
                if stringIsKey { pendingSlot = key.withUnsafeBytes { slot($0) } }
                else if capturing && captureIsString && depth == captureDepth { endCapture(bytes, end: i + 1, seen: i + 1) }
                return
            }
            if stringIsKey { appendKey(b) }
            return
        }
        switch b {
        case 0x22:   // "
            inString = true
            stringIsKey = expectingKey && innermost == 0x7B
            if stringIsKey { key.removeAll(keepingCapacity: true); expectingKey = false }
            else if awaitingValue { startValue(at: i, first: b, string: true) }
        case 0x3A:   // :
            awaitingValue = true
        case 0x7B, 0x5B:   // { [
            if awaitingValue { startValue(at: i, first: b, string: false) }
            guard depth < Self.maxDepth else { extraDepth += 1; awaitingValue = false; return }
            open(b)
            expectingKey = b == 0x7B
            pendingSlot = nil
        case 0x7D, 0x5D:   // } ]
            if extraDepth > 0 { extraDepth -= 1; awaitingValue = false; return }
            if capturing && !captureIsString && depth == captureDepth && !isContainerCapture {
                endCapture(bytes, end: i, seen: i + 1)       // a number, true, false or null ended by the bracket
            }
            close()
            if capturing && depth == captureDepth && isContainerCapture { endCapture(bytes, end: i + 1, seen: i + 1) }
            awaitingValue = false
        case 0x2C:   // ,
            if capturing && !captureIsString && !isContainerCapture && depth == captureDepth { endCapture(bytes, end: i, seen: i + 1) }
            expectingKey = innermost == 0x7B
            awaitingValue = false
        case 0x20, 0x0A, 0x0D, 0x09:
            break
        default:
            if awaitingValue { startValue(at: i, first: b, string: false) }
        }
    }

    /// The slot of a key that is one of the names looked for.
    private func slot(_ key: UnsafeRawBufferPointer) -> Int? {
        for (i, name) in names.enumerated() where name.count == key.count && name.elementsEqual(key) { return i }
        return nil
    }

    var isContainerCapture: Bool { captureFirst == 0x7B || captureFirst == 0x5B }

    @inline(__always) mutating func appendKey(_ b: UInt8) { if key.count < 256 { key.append(b) } }

    mutating func startValue(at i: Int, first: UInt8, string: Bool) {
        awaitingValue = false
        guard !capturing, extraDepth == 0, let slot = pendingSlot else { return }
        pendingSlot = nil
        let memberDepth = depth > 0 && level(0) == 0x5B ? 2 : 1
        guard (depth == memberDepth && topLevel[slot]) || anywhere[slot] else { return }
        if store.capacity == 0 { store.reserveCapacity(512) }
        capturing = true
        captureStart = store.count
        runStart = i
        captureFirst = first
        captureSlot = slot
        captureDepth = depth
        captureIsString = string
        captureOverflow = false
    }

    /// Adds this chunk's run of the value up to `end`; `seen` counts the byte that ended a
    /// scalar too, so that the bound applies as to every byte read for the value.
    mutating func keepRun(_ bytes: UnsafeRawBufferPointer, upTo end: Int, seen: Int) {
        guard !captureOverflow else { return }
        if store.count - captureStart + (seen - runStart) > maxValueBytes {
            captureOverflow = true
            store.removeSubrange(captureStart...)
            return
        }
        store.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<end]))
    }

    mutating func endCapture(_ bytes: UnsafeRawBufferPointer, end: Int, seen: Int) {
        keepRun(bytes, upTo: end, seen: seen)
        capturing = false
        guard !captureOverflow else { return }
        ranges[captureSlot] = captureStart..<store.count
        // A member repeated many times (later ones win) leaves the earlier values behind: keep
        // only the live ones once they are under half of what is held.
        let live = ranges.reduce(0) { $0 + ($1?.count ?? 0) }
        if store.count > 4096 && live * 2 < store.count {
            var kept: [UInt8] = []
            kept.reserveCapacity(live)
            for slot in ranges.indices {
                guard let r = ranges[slot] else { continue }
                let from = kept.count
                kept.append(contentsOf: store[r])
                ranges[slot] = from..<kept.count
            }
            store = kept
        }
    }
}
