/// Re-indents JSON text for reading, keeping keys in their order and numbers as written; nil
/// when the text is not one JSON value (the caller shows it as it is). A body that is a stream
/// of server-sent events is re-indented event by event.
///
/// ```swift
/// JSONPretty.lines(#"{"a":[1,2],"b":{}}"#)
/// // ["{", "  \"a\": [", "    1,", "    2", "  ],", "  \"b\": {}", "}"]
/// ```
public enum JSONPretty {
    public static func lines(_ text: String, indent: Int = 2) -> [String]? {
        guard (try? JSONParser.parse(text)) != nil else { return nil }
        var out: [String] = []
        var line = ""
        var depth = 0
        var inString = false
        var escaped = false
        let pad = { (d: Int) in String(repeating: " ", count: d * indent) }
        let chars = Array(text)
        var i = 0
        func skipSpace() { while i < chars.count, " \t\n\r".contains(chars[i]) { i += 1 } }
        while i < chars.count {
            let c = chars[i]
            i += 1
            if inString {
                line.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                continue
            }
            switch c {
            case " ", "\t", "\n", "\r": continue
            case "\"": inString = true; line.append(c)
            case "{", "[":
                // An empty object or array stays on one line.
                skipSpace()
                if i < chars.count, (c == "{" && chars[i] == "}") || (c == "[" && chars[i] == "]") {
                    line.append(c); line.append(chars[i]); i += 1
                } else {
                    line.append(c); out.append(line); depth += 1; line = pad(depth)
                }
            case "}", "]":
                if !line.allSatisfy { $0 == " " } { out.append(line) }
                depth -= 1; line = pad(depth) + String(c)
            case ",": line.append(c); out.append(line); line = pad(depth)
            case ":": line.append(": ")
            default: line.append(c)
            }
        }
        if !line.allSatisfy { $0 == " " } { out.append(line) }
        return out
    }

    /// A body as lines to read: JSON re-indented, server-sent events with each `data:` payload
    /// re-indented, anything else split at its newlines.
    public static func body(_ text: String) -> [String] {
        if let l = lines(text) { return l }
        let raw = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        guard raw.contains(where: { $0.hasPrefix("data:") }) else { return raw }
        var out: [String] = []
        for l in raw {
            if l.hasPrefix("data:"), let j = lines(String(l.dropFirst(5))), j.count > 1 {
                out.append("data:")
                out += j.map { "  " + $0 }
            } else { out.append(l) }
        }
        return out
    }
}
