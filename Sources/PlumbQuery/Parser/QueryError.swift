/// A problem with a query, at a byte offset into its text. `render()` gives SQLite-style output:
/// the message with line:column, the offending line, a caret under the spot, and a hint.
///
/// ```swift
/// QueryError("unknown column \"modle\"", at: 14, hint: "did you mean \"model\"?").render(query)
/// // line 1:15: unknown column "modle"
/// //   SELECT model, modle FROM spans
/// //                 ^
/// // hint: did you mean "model"?
/// ```
public struct QueryError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// Byte offset into the query text; nil when the problem has no one place (e.g. during execution).
    public let offset: Int?
    public let hint: String?

    public init(_ message: String, at offset: Int? = nil, hint: String? = nil) {
        self.message = message; self.offset = offset; self.hint = hint
    }

    public var description: String { message }

    /// Line and column (both 1-based, the column counted in characters) of `offset` in `text`.
    public static func lineColumn(of offset: Int, in text: String) -> (line: Int, column: Int, lineText: String) {
        let bytes = Array(text.utf8)
        let o = max(0, min(offset, bytes.count))
        var lineStart = 0, line = 1
        for i in 0..<o where bytes[i] == 0x0A { line += 1; lineStart = i + 1 }
        var lineEnd = lineStart
        while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
        let before = String(decoding: bytes[lineStart..<o], as: UTF8.self)
        let lineText = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
        return (line, before.count + 1, lineText)
    }

    /// The error as the CLI prints it for `query`.
    public func render(_ query: String) -> String {
        var out: String
        if let offset {
            let (line, column, lineText) = Self.lineColumn(of: offset, in: query)
            let shown = lineText.replacingTabs()
            out = "line \(line):\(column): \(message)\n  \(shown)\n  " + String(repeating: " ", count: column - 1) + "^"
        } else {
            out = message
        }
        if let hint { out += "\nhint: \(hint)" }
        return out
    }
}

extension String {
    fileprivate func replacingTabs() -> String { String(map { $0 == "\t" ? " " : $0 }) }
}
