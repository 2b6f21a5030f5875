/// Where a member of a JSON document's root object sits in its bytes: the value's byte range,
/// found in one pass over the bytes without building the document (a request body can be tens
/// of megabytes; its tree would be several times that, and slow to build).
///
/// ```swift
/// let body = Array(#"{"model":"m","stream_options":{"x":1}}"#.utf8)
/// JSONMemberRange.value(of: "stream_options", in: body)   // 30..<37, the bytes {"x":1}
/// ```
public enum JSONMemberRange {
    /// The range of the last `name` member's value in the root object; nil when the root is not
    /// an object, has no such member, or the bytes end first.
    public static func value(of name: String, in bytes: [UInt8]) -> Range<Int>? {
        let wanted = Array(name.utf8)
        var depth = 0
        var i = 0
        var found: Range<Int>? = nil
        var keyStart = -1                  // a string at depth 1 in key position starts here
        var expectingKey = false
        var valueStart = -1                // the wanted member's value starts here (depth 1)
        var lastKeyMatched = false
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < n && bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard i < n else { return found }
                if depth == 1 && expectingKey {
                    keyStart = start
                    lastKeyMatched = i - start - 1 == wanted.count && bytes[(start + 1)..<i].elementsEqual(wanted)
                    expectingKey = false
                } else if depth == 1 && valueStart == start {
                    found = valueStart..<(i + 1)
                    valueStart = -1
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 0 && b != UInt8(ascii: "{") { return nil }
                depth += 1
                if depth == 1 { expectingKey = true }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 1, valueStart >= 0 { found = valueStart..<trimmedEnd(bytes, from: valueStart, to: i); valueStart = -1 }
                depth -= 1
                if depth == 1, valueStart >= 0, bytes[valueStart] == UInt8(ascii: "{") || bytes[valueStart] == UInt8(ascii: "[") {
                    found = valueStart..<(i + 1)
                    valueStart = -1
                }
                if depth == 0 { return found }
            case UInt8(ascii: ":"):
                if depth == 1 && keyStart >= 0 {
                    if lastKeyMatched {
                        var j = i + 1
                        while j < n, bytes[j] == 0x20 || bytes[j] == 0x09 || bytes[j] == 0x0A || bytes[j] == 0x0D { j += 1 }
                        valueStart = j
                    }
                    keyStart = -1
                }
            case UInt8(ascii: ","):
                if depth == 1 {
                    if valueStart >= 0 { found = valueStart..<trimmedEnd(bytes, from: valueStart, to: i); valueStart = -1 }
                    expectingKey = true
                }
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// The end of a scalar value that runs up to `end` (a ',' or '}'), without trailing spaces.
    private static func trimmedEnd(_ bytes: [UInt8], from start: Int, to end: Int) -> Int {
        var e = end
        while e > start, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 || bytes[e - 1] == 0x0A || bytes[e - 1] == 0x0D { e -= 1 }
        return e
    }
}
