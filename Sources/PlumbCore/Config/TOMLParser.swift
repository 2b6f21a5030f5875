/// A TOML 1.0 reader for Plumb's config file, producing `JSONValue` trees. Covers tables, dotted
/// and quoted keys, basic/literal/multi-line strings, integers (hex/oct/bin, `_`), floats, booleans,
/// arrays and inline tables; dates are read as strings. Errors carry line and column.
///
/// ```swift
/// let doc = try TOMLParser.parse("listen = \"127.0.0.1:8787\"\n[providers.local]\nbase_url = \"http://x\"")
/// doc["providers"]?["local"]?["base_url"]?.stringValue   // "http://x"
/// ```
public struct TOMLError: Error, Sendable, CustomStringConvertible {
    public let line: Int, column: Int, message: String
    public var description: String { "line \(line), column \(column): \(message)" }
}

public struct TOMLParser {
    private let s: [UInt8]
    private var i = 0
    private var root: [String: JSONValue] = [:]
    private var currentPath: [String] = []
    private var definedTables: Set<[String]> = []
    /// Arrays and inline tables open around the value being read.
    private var depth = 0

    /// A config file is written by hand: nothing real nests this deep, and a hostile file must
    /// not exhaust the stack (the readers of the tree recurse too).
    static let maxDepth = 64
    /// Dotted-key parts (`a.b.c`): tables are built by recursion over them.
    static let maxKeyParts = 64

    private init(_ text: String) { s = Array(text.utf8) }

    public static func parse(_ text: String) throws -> JSONValue {
        var p = TOMLParser(text)
        try p.document()
        return .object(p.root)
    }

    private func fail(_ message: String) -> TOMLError {
        var line = 1, col = 1
        for k in 0..<min(i, s.count) { if s[k] == 0x0A { line += 1; col = 1 } else { col += 1 } }
        return TOMLError(line: line, column: col, message: message)
    }

    private var atEnd: Bool { i >= s.count }
    private var peek: UInt8 { s[i] }

    private mutating func skipSpaces() { while !atEnd, peek == 0x20 || peek == 0x09 { i += 1 } }

    private mutating func skipCommentAndNewline() throws {
        skipSpaces()
        if !atEnd, peek == UInt8(ascii: "#") { while !atEnd, peek != 0x0A { i += 1 } }
        if atEnd { return }
        if peek == 0x0D { i += 1 }
        guard !atEnd, peek == 0x0A else { throw fail("expected a newline") }
        i += 1
    }

    private mutating func document() throws {
        while !atEnd {
            skipSpaces()
            if atEnd { break }
            switch peek {
            case 0x0A, 0x0D, UInt8(ascii: "#"): try skipCommentAndNewline()
            case UInt8(ascii: "["):
                i += 1
                let isArray = !atEnd && peek == UInt8(ascii: "[")
                if isArray { i += 1 }
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard !atEnd, peek == UInt8(ascii: "]") else { throw fail("expected ']' after table name") }
                i += 1
                if isArray {
                    guard !atEnd, peek == UInt8(ascii: "]") else { throw fail("expected ']]'") }
                    i += 1
                    try appendArrayTable(path)
                } else {
                    guard definedTables.insert(path).inserted else { throw fail("table [\(path.joined(separator: "."))] defined twice") }
                    try ensureTable(path)
                    currentPath = path
                }
                try skipCommentAndNewline()
            default:
                let k = try key()
                skipSpaces()
                guard !atEnd, peek == UInt8(ascii: "=") else { throw fail("expected '=' after key") }
                i += 1
                skipSpaces()
                let v = try value()
                try insert(currentPath + k, v)
                try skipCommentAndNewline()
            }
        }
    }

    private mutating func key() throws -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            guard !atEnd else { throw fail("expected a key") }
            if peek == UInt8(ascii: "\"") { parts.append(try basicString()) }
            else if peek == UInt8(ascii: "'") { parts.append(try literalString()) }
            else {
                let start = i
                while !atEnd, isBareKeyChar(peek) { i += 1 }
                guard i > start else { throw fail("invalid character in key") }
                parts.append(String(decoding: s[start..<i], as: UTF8.self))
            }
            skipSpaces()
            if !atEnd, peek == UInt8(ascii: ".") {
                guard parts.count < Self.maxKeyParts else { throw fail("key has more than \(Self.maxKeyParts) dotted parts") }
                i += 1
                continue
            }
            return parts
        }
    }

    private func isBareKeyChar(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    private mutating func value() throws -> JSONValue {
        guard !atEnd else { throw fail("expected a value") }
        switch peek {
        case UInt8(ascii: "\""):
            if s[i...].starts(with: Array("\"\"\"".utf8)) { return .string(try multilineString()) }
            return .string(try basicString())
        case UInt8(ascii: "'"):
            if s[i...].starts(with: Array("'''".utf8)) {
                i += 3
                if !atEnd, peek == 0x0A { i += 1 }
                let start = i
                while !atEnd, !s[i...].starts(with: Array("'''".utf8)) { i += 1 }
                guard !atEnd else { throw fail("unterminated multi-line literal string") }
                defer { i += 3 }
                return .string(String(decoding: s[start..<i], as: UTF8.self))
            }
            return .string(try literalString())
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "{"): return try inlineTable()
        case UInt8(ascii: "t"):
            guard s[i...].starts(with: Array("true".utf8)) else { throw fail("invalid value") }
            i += 4; return .bool(true)
        case UInt8(ascii: "f"):
            guard s[i...].starts(with: Array("false".utf8)) else { throw fail("invalid value") }
            i += 5; return .bool(false)
        default: return try numberOrDate()
        }
    }

    private mutating func numberOrDate() throws -> JSONValue {
        let start = i
        while !atEnd, !(peek == 0x20 || peek == 0x09 || peek == 0x0A || peek == 0x0D || peek == UInt8(ascii: ",")
                        || peek == UInt8(ascii: "]") || peek == UInt8(ascii: "}") || peek == UInt8(ascii: "#")) { i += 1 }
        let raw = String(decoding: s[start..<i], as: UTF8.self)
        guard !raw.isEmpty else { throw fail("expected a value") }
        if raw.contains(":") || (raw.count >= 10 && raw.dropFirst(4).first == "-") { return .string(raw) }
        let text = String(raw.filter { $0 != "_" })
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where text.hasPrefix(prefix) {
            guard let v = Int64(text.dropFirst(2), radix: radix) else { i = start; throw fail("invalid integer '\(raw)'") }
            return .int(v)
        }
        if let v = Int64(text) { return .int(v) }
        switch text {
        case "inf", "+inf": return .double(.infinity)
        case "-inf": return .double(-.infinity)
        case "nan", "+nan", "-nan": return .double(.nan)
        default: break
        }
        if let d = Double(text), text.first != "." { return .double(d) }
        i = start
        throw fail("invalid value '\(raw)' (strings need quotes)")
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("arrays and inline tables nested more than \(Self.maxDepth) deep") }
    }

    private mutating func array() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        while true {
            try skipWhitespaceCommentsAndNewlines()
            guard !atEnd else { throw fail("unterminated array") }
            if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
            items.append(try value())
            try skipWhitespaceCommentsAndNewlines()
            guard !atEnd else { throw fail("unterminated array") }
            if peek == UInt8(ascii: ",") { i += 1; continue }
            guard peek == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in array") }
        }
    }

    private mutating func skipWhitespaceCommentsAndNewlines() throws {
        while !atEnd {
            if peek == 0x20 || peek == 0x09 || peek == 0x0A || peek == 0x0D { i += 1 }
            else if peek == UInt8(ascii: "#") { while !atEnd, peek != 0x0A { i += 1 } }
            else { return }
        }
    }

    private mutating func inlineTable() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        i += 1
        var table: [String: JSONValue] = [:]
        skipSpaces()
        if !atEnd, peek == UInt8(ascii: "}") { i += 1; return .object(table) }
        while true {
            let k = try key()
            skipSpaces()
            guard !atEnd, peek == UInt8(ascii: "=") else { throw fail("expected '=' in inline table") }
            i += 1; skipSpaces()
            let v = try value()
            table = try Self.inserting(table, k, v) { fail($0) }
            skipSpaces()
            guard !atEnd else { throw fail("unterminated inline table") }
            if peek == UInt8(ascii: ",") { i += 1; skipSpaces(); continue }
            guard peek == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in inline table") }
            i += 1
            return .object(table)
        }
    }

    private mutating func literalString() throws -> String {
        i += 1
        let start = i
        while !atEnd, peek != UInt8(ascii: "'") {
            guard peek != 0x0A else { throw fail("newline in literal string") }
            i += 1
        }
        guard !atEnd else { throw fail("unterminated literal string") }
        defer { i += 1 }
        return String(decoding: s[start..<i], as: UTF8.self)
    }

    private mutating func basicString() throws -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard !atEnd, peek != 0x0A else { throw fail("unterminated string") }
            let c = peek; i += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") { try escape(into: &out) } else { out.append(c) }
        }
    }

    private mutating func multilineString() throws -> String {
        i += 3
        if !atEnd, peek == 0x0A { i += 1 }
        var out: [UInt8] = []
        while !atEnd {
            if s[i...].starts(with: Array("\"\"\"".utf8)) { i += 3; return String(decoding: out, as: UTF8.self) }
            let c = peek; i += 1
            if c == UInt8(ascii: "\\") {
                if !atEnd, peek == 0x0A || peek == 0x20 || peek == 0x0D {
                    while !atEnd, peek == 0x0A || peek == 0x20 || peek == 0x09 || peek == 0x0D { i += 1 }
                } else { try escape(into: &out) }
            } else { out.append(c) }
        }
        throw fail("unterminated multi-line string")
    }

    private mutating func escape(into out: inout [UInt8]) throws {
        guard !atEnd else { throw fail("unterminated escape") }
        let e = peek; i += 1
        if let simple = StringEscapes.simple(e) { out.append(simple); return }
        switch e {
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let n = e == UInt8(ascii: "u") ? 4 : 8
            guard i + n <= s.count, let v = UInt32(String(decoding: s[i..<i + n], as: UTF8.self), radix: 16),
                  let scalar = Unicode.Scalar(v) else { throw fail("invalid unicode escape") }
            i += n
            out.append(contentsOf: String(Character(scalar)).utf8)
        default: throw fail("invalid escape '\\\(Unicode.Scalar(e))'")
        }
    }

    private mutating func ensureTable(_ path: [String]) throws {
        root = try Self.ensuring(root, path[...]) { fail($0) }
    }

    private static func ensuring(_ t: [String: JSONValue], _ path: ArraySlice<String>, _ fail: (String) -> TOMLError) throws -> [String: JSONValue] {
        guard let head = path.first else { return t }
        var t = t
        switch t[head] {
        case nil: t[head] = .object(try ensuring([:], path.dropFirst(), fail))
        case .object(let inner): t[head] = .object(try ensuring(inner, path.dropFirst(), fail))
        case .array(var items) where !items.isEmpty:
            guard case .object(let last) = items.removeLast() else { throw fail("key '\(head)' is not a table") }
            items.append(.object(try ensuring(last, path.dropFirst(), fail)))
            t[head] = .array(items)
        default: throw fail("key '\(head)' is already a value, not a table")
        }
        return t
    }

    private mutating func appendArrayTable(_ path: [String]) throws {
        try ensureTable(Array(path.dropLast()))
        root = try Self.modify(root, Array(path.dropLast())[...]) { t throws in
            var t = t
            let k = path.last!
            switch t[k] {
            case nil: t[k] = .array([.object([:])])
            case .array(var a): a.append(.object([:])); t[k] = .array(a)
            default: throw fail("key '\(k)' is not an array of tables")
            }
            return t
        }
        currentPath = path
    }

    private static func modify(_ t: [String: JSONValue], _ path: ArraySlice<String>, _ f: ([String: JSONValue]) throws -> [String: JSONValue]) throws -> [String: JSONValue] {
        guard let head = path.first else { return try f(t) }
        var t = t
        switch t[head] {
        case .object(let inner): t[head] = .object(try modify(inner, path.dropFirst(), f))
        case .array(var items):
            guard case .object(let last) = items.removeLast() else { return t }
            items.append(.object(try modify(last, path.dropFirst(), f)))
            t[head] = .array(items)
        default: break
        }
        return t
    }

    private mutating func insert(_ path: [String], _ v: JSONValue) throws {
        root = try Self.inserting(root, path, v) { fail($0) }
    }

    private static func inserting(_ t: [String: JSONValue], _ path: [String], _ v: JSONValue, _ fail: (String) -> TOMLError) throws -> [String: JSONValue] {
        let parent = try ensuring(t, path.dropLast()[...], fail)
        return try modify(parent, path.dropLast()[...]) { inner in
            var inner = inner
            guard inner[path.last!] == nil else { throw fail("key '\(path.joined(separator: "."))' defined twice") }
            inner[path.last!] = v
            return inner
        }
    }
}
