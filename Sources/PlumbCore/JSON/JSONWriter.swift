/// Appends JSON text to a byte buffer; used for JSON/JSONL output and span export.
///
/// ```swift
/// var w = JSONWriter()
/// w.string("héllo \"x\"")
/// String(decoding: w.bytes, as: UTF8.self)   // "\"héllo \\\"x\\\"\""
/// ```
public struct JSONWriter: Sendable {
    public var bytes: [UInt8] = []

    public init() {}

    public mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    public mutating func null() { raw("null") }

    public mutating func bool(_ b: Bool) { raw(b ? "true" : "false") }

    public mutating func int(_ v: Int64) { raw(String(v)) }

    /// Non-finite doubles have no JSON form and are written as null.
    public mutating func double(_ v: Double) {
        guard v.isFinite else { return null() }
        if v == v.rounded(), abs(v) < 1e15 { raw(String(Int64(v))) } else { raw("\(v)") }
    }

    public mutating func string(_ s: String) {
        bytes.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(b >> 4)]); bytes.append(hex[Int(b & 0xF)])
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
    }

    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .array(let a):
            bytes.append(UInt8(ascii: "["))
            for (k, item) in a.enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                value(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o):
            bytes.append(UInt8(ascii: "{"))
            for (k, key) in o.keys.sorted().enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                string(key); bytes.append(UInt8(ascii: ":")); value(o[key]!)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}
