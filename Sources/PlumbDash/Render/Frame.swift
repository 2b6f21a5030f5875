import PlumbCore
import PlumbQuery

/// One frame of a dashboard as text: every panel's query run for the time range and filter,
/// panels laid out in rows, each boxed by its title. `plumb dash --once` prints it; the terminal
/// UI draws the same lines.
///
/// ```swift
/// let text = try Frame(board: overview, engine: engine, range: "1h", filter: nil, width: 120).render()
/// ```
public struct Frame: Sendable {
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
            let keep = ["provider", "model", "kind", "start", "end", "peak_error_rate", "affected", "failed_cost_usd", "ongoing", "query"]
            let idx = keep.compactMap { c.header.names.firstIndex(of: $0) }
            out.names = idx.map { c.header.names[$0] }
            out.types = idx.map { c.header.types[$0] }
            out.batches = c.batches.map { b in Batch(columns: idx.map { b.columns[$0] }, count: b.count) }
            return out
        }
        return try engine.collect(Template.expand(p.query, range: range, filter: filter))
    }

    /// Every panel's result in panel order; a query error stays with its panel. `reuse` may
    /// answer for a panel instead (a live dashboard's recent incidents). Panels are run
    /// `lanes` at a time.
    public func results(lanes: Int = 2, reuse: (Int) -> PanelResult? = { _ in nil }) throws -> [PanelResult] {
        let kept = board.panels.indices.map { reuse($0) }
        engine.columnCache?.keepOnly(sharedColumns(kept.map { $0 == nil }))
        let jobs = ParallelJobs()
        let fresh = board.panels.indices.map { i in
            kept[i] == nil ? jobs.add { [self] () throws -> PanelResult in
                do { return .rows(try result(board.panels[i])) } catch let e as QueryError { return .failed(e.message) }
            } : nil
        }
        try jobs.run(lanes: lanes)
        return board.panels.indices.map { kept[$0] ?? fresh[$0]!.value }
    }

    /// Keeping a decoded column costs a first frame new memory (page faults: about 5 ns a value
    /// of 8 bytes on this machine) and saves each further reader its decode (1–2 ns a value):
    /// worth it from about four readers. Measured side by side (fresh process, median of 13):
    /// the incidents dashboard's first frame 37.5 ms keeping columns of two readers, 33.8 ms
    /// of four; spend (8 readers of ts_start, 7 of cost_usd) the same.
    static let sharedReaders = 4

    /// The columns that `sharedReaders` or more of the panels to run read: the decoded columns
    /// worth keeping while the frame runs. A panel whose query does not bind reads none.
    public func sharedColumns(_ run: [Bool]) -> Set<String> {
        let queries = board.panels.indices.filter { run[$0] && board.panels[$0].visual != .incidents }
            .map { Template.expand(board.panels[$0].query, range: range, filter: filter) }
        if let known = Self.sharedByQueries.value(queries) { return known }
        var readers: [String: Int] = [:]
        for sql in queries {
            guard let q = try? engine.bind(sql) else { continue }
            for c in Set(q.scanColumns) { readers[c, default: 0] += 1 }
        }
        let shared = Set(readers.filter { $0.value >= Self.sharedReaders }.keys)
        Self.sharedByQueries.keep(queries, shared, size: 1)
        return shared
    }

    /// `sharedColumns` by the panels' expanded queries: the columns a query reads do not change
    /// from one refresh to the next, so a frame binds them once per dashboard, range and filter
    /// (binding a dashboard's queries took a few percent of a refresh).
    private static let sharedByQueries = BudgetedCache<[String], Set<String>>(budget: 256)

    /// The line above the panels: title, range, filter and the time of the frame.
    public var heading: String {
        board.title + "  (last \(range)" + (filter.map { ", where \($0)" } ?? "") + ", as of " + Timestamp.format(engine.now) + ")"
    }

    /// The panels laid out in rows; `focus` titles one panel as focused and `selection` marks
    /// its selected row.
    public func layout(_ results: [PanelResult], focus: Int? = nil, selection: Int? = nil) -> FrameLayout {
        var out = FrameLayout()
        let rows = Dictionary(grouping: board.panels.indices, by: { board.panels[$0].row }).sorted { $0.key < $1.key }
        out.panelLine = Array(repeating: 0, count: board.panels.count)
        out.selectable = Array(repeating: 0, count: board.panels.count)
        for (_, members) in rows {
            let weights = members.reduce(0) { $0 + board.panels[$1].width }
            let gaps = 3 * (members.count - 1)
            var columns: [[StyledLine]] = []
            var widths: [Int] = []
            out.lines.append(StyledLine())
            for (k, i) in members.enumerated() {
                let p = board.panels[i]
                var w = max(10, (width - gaps) * p.width / max(weights, 1))
                if k == members.count - 1 { w = max(10, width - gaps - widths.reduce(0, +)) }
                widths.append(w)
                out.order.append(i)
                out.panelLine[i] = out.lines.count
                var body: [StyledLine]
                switch i < results.count ? results[i] : .failed("not loaded") {
                case .rows(let r):
                    body = PanelText.lines(p, r, width: w, unicode: unicode)
                    out.selectable[i] = PanelText.selectable(p, r)
                    if focus == i, let selection, selection < out.selectable[i] {
                        let at = PanelText.firstRow(p) + selection
                        if at < body.count { body[at] = body[at].restyled(.selected) }
                    }
                case .failed(let message): body = [StyledLine("error: \(message)", .crit)]
                }
                let rule = unicode ? "─" : "-"
                let title = " " + p.title + " "
                var head = StyledLine(rule, .dim)
                head.append(title, focus == i ? .focused : .title)
                head.append(String(repeating: rule, count: max(0, w - 1 - DisplayWidth.of(title))), .dim)
                columns.append([head.fitted(w)] + body.map { $0.fitted(w) })
            }
            let height = columns.map(\.count).max() ?? 0
            for line in 0..<height {
                var l = StyledLine()
                for (k, c) in columns.enumerated() {
                    if k > 0 { l.append("   ") }
                    l.append(line < c.count ? c[line] : StyledLine(String(repeating: " ", count: widths[k])))
                }
                out.lines.append(l)
            }
        }
        return out
    }

    /// The frame as plain text (`plumb dash --once`).
    public func render() throws -> String {
        let lines = [heading] + layout(try results()).lines.map { l in
            var t = l.text
            while t.hasSuffix(" ") { t.removeLast() }
            return t
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A panel's result as the frame shows it.
public enum PanelResult: Sendable {
    case rows(QueryResult)
    case failed(String)
}

/// A frame's lines and where each panel sits in them.
public struct FrameLayout: Sendable {
    public var lines: [StyledLine] = []
    /// Line of each panel's title (by panel index).
    public var panelLine: [Int] = []
    /// Rows a cursor can select in each panel.
    public var selectable: [Int] = []
    /// Panel indices in reading order (rows top to bottom, left to right): the Tab order.
    public var order: [Int] = []
}
