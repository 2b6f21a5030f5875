import Foundation
import PlumbCore
import PlumbQuery

/// Reads dashboard files (TOML). Every defect is an error naming the file, the line and the
/// problem.
///
/// ```swift
/// let boards = try DashboardFile.loadAll(directory: "dashboards-tui")
/// ```
public enum DashboardFile {
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let file: String
        public let line: Int
        public let message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    public static func loadAll(directory: String) throws -> [Dashboard] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".toml") }.sorted()
        return try names.map { try load(path: directory + "/" + $0) }
    }

    public static func load(path: String) throws -> Dashboard {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(file: path, line: 0, message: "cannot read the file")
        }
        let name = String(path.split(separator: "/").last ?? "").replacingOccurrences(of: ".toml", with: "")
        return try parse(text, name: name, file: path)
    }

    /// The line of the first occurrence of `key = ` after `from` (for messages about values).
    static func line(of key: String, in text: String, after from: Int = 0) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, l) in lines.enumerated() where i >= from && l.trimmingCharacters(in: .whitespaces).hasPrefix(key) { return i + 1 }
        return 1
    }

    /// Line numbers of each `[[panel]]` header.
    static func panelLines(_ text: String) -> [Int] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.trimmingCharacters(in: .whitespaces).hasPrefix("[[panel]]") }.map { $0.offset + 1 }
    }

    public static func parse(_ text: String, name: String, file: String) throws -> Dashboard {
        let doc: JSONValue
        do { doc = try TOMLParser.parse(text) } catch let e as TOMLError {
            throw Problem(file: file, line: e.line, message: e.message)
        }
        guard case .object(let top) = doc else { throw Problem(file: file, line: 1, message: "not a table") }
        for k in top.keys where !["title", "range", "panel"].contains(k) {
            throw Problem(file: file, line: line(of: k, in: text), message: "unknown key '\(k)' (known: title, range, [[panel]])")
        }
        func string(_ v: JSONValue?, _ key: String, line l: Int) throws -> String? {
            guard let v else { return nil }
            guard case .string(let s) = v else { throw Problem(file: file, line: l, message: "\(key) must be a string") }
            return s
        }
        let range = try string(top["range"], "range", line: line(of: "range", in: text)) ?? "1h"
        guard PlumbConfig.parseDuration(range).map({ $0 > 0 }) == true else {
            throw Problem(file: file, line: line(of: "range", in: text), message: "range '\(range)' is not a duration such as 15m, 1h, 7d")
        }
        var board = Dashboard(name: name, title: try string(top["title"], "title", line: 1) ?? name, range: range, panels: [])
        guard case .array(let panels)? = top["panel"], !panels.isEmpty else {
            throw Problem(file: file, line: 1, message: "no [[panel]] sections")
        }
        let starts = panelLines(text)
        for (k, p) in panels.enumerated() {
            let at = k < starts.count ? starts[k] : 1
            guard case .object(let f) = p else { throw Problem(file: file, line: at, message: "a panel must be a table") }
            let known = ["title", "query", "visual", "unit", "warn", "crit", "row", "width", "height", "drill"]
            for key in f.keys where !known.contains(key) {
                throw Problem(file: file, line: line(of: key, in: text, after: at - 1), message: "unknown panel key '\(key)' (known: \(known.joined(separator: ", ")))")
            }
            let visualName = try string(f["visual"], "visual", line: line(of: "visual", in: text, after: at - 1)) ?? "table"
            guard let visual = Dashboard.Visual(rawValue: visualName) else {
                throw Problem(file: file, line: line(of: "visual", in: text, after: at - 1),
                              message: "unknown visual '\(visualName)' (use stat, sparkline, bars, table or incidents)")
            }
            let query = try string(f["query"], "query", line: line(of: "query", in: text, after: at - 1)) ?? ""
            if visual != .incidents {
                guard !query.isEmpty else { throw Problem(file: file, line: at, message: "panel \(k + 1) has no query") }
                do { _ = try QueryEngine(directory: .init("/nonexistent")).bind(Template.expand(query, range: range, filter: nil)) } catch let e as QueryError {
                    throw Problem(file: file, line: line(of: "query", in: text, after: at - 1), message: "query: \(e.message)")
                }
            }
            let drill = try string(f["drill"], "drill", line: line(of: "drill", in: text, after: at - 1))
            if let drill {
                var probe = drill
                for k in (1...9).reversed() { probe = probe.replacingOccurrences(of: "$\(k)", with: "NULL") }
                do { _ = try QueryEngine(directory: .init("/nonexistent")).bind("SELECT 1 FROM spans WHERE (\(probe))") } catch let e as QueryError {
                    throw Problem(file: file, line: line(of: "drill", in: text, after: at - 1), message: "drill: \(e.message)")
                }
            }
            func number(_ key: String) throws -> Double? {
                switch f[key] {
                case nil: return nil
                case .int(let i)?: return Double(i)
                case .double(let d)?: return d
                default: throw Problem(file: file, line: line(of: key, in: text, after: at - 1), message: "\(key) must be a number")
                }
            }
            func whole(_ key: String, _ def: Int, _ lo: Int, _ hi: Int) throws -> Int {
                guard let v = f[key] else { return def }
                guard case .int(let i) = v, i >= lo, i <= hi else {
                    throw Problem(file: file, line: line(of: key, in: text, after: at - 1), message: "\(key) must be a whole number from \(lo) to \(hi)")
                }
                return Int(i)
            }
            board.panels.append(Dashboard.Panel(
                title: try string(f["title"], "title", line: at) ?? "panel \(k + 1)", query: query, visual: visual,
                unit: try string(f["unit"], "unit", line: at) ?? "", warn: try number("warn"), crit: try number("crit"),
                row: try whole("row", k, 0, 100), width: try whole("width", 1, 1, 12), drill: drill,
                height: try whole("height", 8, 1, 60)))
        }
        return board
    }
}
