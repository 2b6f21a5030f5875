import Foundation

/// Writes a result in one of the output formats as batches arrive; `out` receives text chunks.
///
/// ```swift
/// let w = ResultFormat.csv.writer { print($0, terminator: "") }
/// try engine.run(sql, begin: w.begin, emit: w.write); w.end()
/// ```
public protocol ResultWriter: AnyObject {
    func begin(_ header: QueryEngine.Header)
    func write(_ batch: Batch)
    func end()
}

public enum ResultFormat: String, Sendable, CaseIterable {
    case table, csv, json, jsonl

    /// `width`: the terminal's width for `table` (nil: not a terminal, never cut).
    public func writer(width: Int? = nil, _ out: @escaping (String) -> Void) -> ResultWriter {
        switch self {
        case .table: TableWriter(width: width, out)
        case .csv: CSVWriter(out)
        case .json: JSONWriter(lines: false, out)
        case .jsonl: JSONWriter(lines: true, out)
        }
    }
}

/// RFC 4180 CSV: a header line, fields quoted when they hold a comma, quote or line break; NULL
/// is an empty field.
final class CSVWriter: ResultWriter {
    let out: (String) -> Void
    init(_ out: @escaping (String) -> Void) { self.out = out }

    /// Appends `s` as a CSV field (quoted when it holds a comma, quote or line break).
    static func append(_ s: String, to buf: inout [UInt8]) {
        let needsQuotes = s.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else { buf.append(contentsOf: s.utf8); return }
        buf.append(0x22)
        for c in s.utf8 {
            if c == 0x22 { buf.append(0x22) }
            buf.append(c)
        }
        buf.append(0x22)
    }

    static func field(_ s: String) -> String {
        var b: [UInt8] = []
        append(s, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    func begin(_ header: QueryEngine.Header) { out(header.names.map(Self.field).joined(separator: ",") + "\n") }

    func write(_ b: Batch) {
        var buf: [UInt8] = []
        buf.reserveCapacity(b.count * b.columns.count * 8)
        for r in 0..<b.count {
            for (k, column) in b.columns.enumerated() {
                if k > 0 { buf.append(0x2C) }
                if let s = ValueText.plain(column.value(at: r)) { Self.append(s, to: &buf) }
            }
            buf.append(0x0A)
        }
        out(String(decoding: buf, as: UTF8.self))
    }

    func end() {}
}

/// `json`: one array of objects; `jsonl`: one object a line. Keys are the column names.
final class JSONWriter: ResultWriter {
    let lines: Bool
    let out: (String) -> Void
    var keys: [String] = []
    var first = true
    init(lines: Bool, _ out: @escaping (String) -> Void) { self.lines = lines; self.out = out }

    func begin(_ header: QueryEngine.Header) {
        keys = header.names.map(ValueText.jsonString)
        if !lines { out("[") }
    }

    func write(_ b: Batch) {
        var text = ""
        for r in 0..<b.count {
            if !lines { text += first ? "\n" : ",\n" }
            first = false
            text += "{" + zip(keys, b.columns).map { $0 + ":" + ValueText.json($1.value(at: r)) }.joined(separator: ",") + "}"
            if lines { text += "\n" }
        }
        out(text)
    }

    func end() { if !lines { out(first ? "]\n" : "\n]\n") } }
}
