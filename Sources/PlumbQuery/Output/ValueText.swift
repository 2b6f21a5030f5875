import PlumbCore
import PlumbStore

/// How result values are written: timestamps ISO 8601 UTC with microseconds, doubles in their
/// shortest exact form, maps as JSON objects, NULL per format.
public enum ValueText {
    public static func plain(_ v: Value) -> String? {
        switch v {
        case .null: return nil
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return NumberText.double(d)
        case .string(let s): return s
        case .timestamp(let t): return Timestamp.format(t)
        case .interval(let i): return i.text
        case .map(let m): return jsonObject(m)
        }
    }

    public static func json(_ v: Value) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? NumberText.double(d) : "null"
        case .string(let s): return jsonString(s)
        case .timestamp(let t): return "\"" + Timestamp.format(t) + "\""
        case .interval(let i): return jsonString(i.text)
        case .map(let m): return jsonObject(m)
        }
    }

    static func jsonObject(_ m: [String: String]) -> String {
        if m.isEmpty { return "{}" }
        return "{" + m.keys.sorted(by: UTF8Bytes.less).map { jsonString($0) + ":" + jsonString(m[$0]!) }.joined(separator: ",") + "}"
    }

    public static func jsonString(_ s: String) -> String {
        // Most strings need no escaping: check the bytes once.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { return "\"" + s + "\"" }
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
