import PlumbCore
import PlumbQuery

/// One frame of a dashboard as text: every panel's query run for the time range and filter,
/// panels laid out in rows, each boxed by its title. `plumb dash --once` prints it; the terminal
/// UI draws the same lines.
///
/// ```swift
/// let text = try Frame(board: overview, engine: engine, range: "1h", filter: nil, width: 120).render()
/// ```
public struct Frame {
    public var board: Dashboard
    public var engine: QueryEngine
    public var range: String
    public var filter: String?
    public var width: Int
    public var unicode: Bool = true

    public init(board: Dashboard, engine: QueryEngine, range: String, filter: String?, width: Int, unicode: Bool = true) {
        self.board = board; self.engine = engine; self.range = range; self.filter = filter; self.width = width; self.unicode = unicode
    }

    /// One panel's result (the incidents panel asks the incident library).
    public func result(_ p: Dashboard.Panel) throws -> QueryResult {
        if p.visual == .incidents {
            let span = PlumbConfig.parseDuration(range) ?? 3_600_000_000
            // Incidents judge whole providers and models: the `/` filter does not narrow them.
            let found = try IncidentDetector(engine: engine).detect(since: engine.now - span, until: engine.now)
            var out = QueryResult(names: [], types: [], batches: [], stats: ScanStats())
            final class Collect: ResultWriter {
                var header = QueryEngine.Header(names: [], types: [])
                var batches: [Batch] = []
                func begin(_ h: QueryEngine.Header) { header = h }
                func write(_ b: Batch) { batches.append(b) }
                func end() {}
            }
            let c = Collect()
            IncidentReport.write(found, to: c)
            // Show the columns an on-call engineer reads first.
            let keep = ["provider", "model", "kind", "start", "end", "peak_error_rate", "affected", "failed_cost_usd"]
            let idx = keep.compactMap { c.header.names.firstIndex(of: $0) }
            out.names = idx.map { c.header.names[$0] }
            out.types = idx.map { c.header.types[$0] }
            out.batches = c.batches.map { b in Batch(columns: idx.map { b.columns[$0] }, count: b.count) }
            return out
        }
        return try engine.collect(Template.expand(p.query, range: range, filter: filter))
    }

    public func render() throws -> String {
        var lines = [board.title + "  (last \(range)" + (filter.map { ", where \($0)" } ?? "") + ", as of " + Timestamp.format(engine.now) + ")"]
        let rows = Dictionary(grouping: board.panels, by: \.row).sorted { $0.key < $1.key }
        for (_, panels) in rows {
            let weights = panels.reduce(0) { $0 + $1.width }
            let gaps = 3 * (panels.count - 1)
            var columns: [[String]] = []
            var widths: [Int] = []
            for (k, p) in panels.enumerated() {
                var w = max(10, (width - gaps) * p.width / max(weights, 1))
                if k == panels.count - 1 { w = max(10, width - gaps - widths.reduce(0, +)) }
                widths.append(w)
                var body: [String]
                do { body = PanelText.lines(p, try result(p), width: w, unicode: unicode) } catch let e as QueryError {
                    body = ["error: \(e.message)"]
                }
                let rule = unicode ? "─" : "-"
                let title = " " + p.title + " "
                let head = String(repeating: rule, count: 1) + title + String(repeating: rule, count: max(0, w - 1 - DisplayWidth.of(title)))
                columns.append([PanelText.fit(head, w)] + body.map { PanelText.fit($0, w) })
            }
            let height = columns.map(\.count).max() ?? 0
            lines.append("")
            for i in 0..<height {
                let parts = columns.enumerated().map { k, c in i < c.count ? c[i] : String(repeating: " ", count: widths[k]) }
                var line = parts.joined(separator: "   ")
                while line.hasSuffix(" ") { line.removeLast() }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
