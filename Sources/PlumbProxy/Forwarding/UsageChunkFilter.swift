import PlumbCore

/// Undoes, on the way back, the usage Plumb asked for on the caller's behalf: drops the
/// usage-only chunk (`"choices":[]` with a usage object) and the `"usage":null` that the upstream
/// adds to every other chunk once `include_usage` is set (OpenAI API reference, `stream_options`).
/// The caller receives the stream it would have received without Plumb.
enum UsageChunkFilter {
    /// The bytes to forward for `event`, or nil to drop it. Only a chunk whose `usage` is not
    /// null can be the usage-only one, so only those are parsed (a parse of every chunk was most
    /// of a filtered stream's cost); any other chunk that starts as a JSON object has its
    /// `"usage":null` taken out where it lies.
    static func filter(_ event: SSEEvent) -> [UInt8]? {
        guard UsageParser.OpenAI.carriesUsage(event.data) else {
            guard event.data.first(where: { $0 != 0x20 }) == UInt8(ascii: "{") else { return event.raw }
            return removingNullUsage(event.raw)
        }
        guard let json = event.json else { return event.raw }
        if case .array(let choices)? = json["choices"], choices.isEmpty, let u = json["usage"], case .object = u {
            return nil
        }
        return removingNullUsage(event.raw)
    }

    /// Removes a `"usage":null` member (with its separating comma) from raw event bytes. In JSON
    /// text an unescaped `"usage"` followed by `:` can only be a key, never string content.
    static func removingNullUsage(_ raw: [UInt8]) -> [UInt8] {
        let key = Array(#""usage""#.utf8)
        guard let k = find(key, in: raw) else { return raw }
        var j = k + key.count
        func skipSpace() { while j < raw.count, raw[j] == 0x20 || raw[j] == 0x09 { j += 1 } }
        skipSpace()
        guard j < raw.count, raw[j] == UInt8(ascii: ":") else { return raw }
        j += 1; skipSpace()
        guard j + 4 <= raw.count, raw[j..<j + 4].elementsEqual("null".utf8) else { return raw }
        var end = j + 4
        var start = k
        // Take the comma before the member (`,"usage":null}`), else the one after it (`{"usage":null,`).
        var b = start - 1
        while b >= 0, raw[b] == 0x20 || raw[b] == 0x09 { b -= 1 }
        if b >= 0, raw[b] == UInt8(ascii: ",") {
            start = b
        } else {
            var a = end
            while a < raw.count, raw[a] == 0x20 || raw[a] == 0x09 { a += 1 }
            if a < raw.count, raw[a] == UInt8(ascii: ",") { end = a + 1 }
        }
        return Array(raw[..<start]) + Array(raw[end...])
    }

    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = 0
        while i <= hay.count - needle.count {
            if hay[i] == needle[0] && hay[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
