import PlumbCore
import PlumbQuery

/// The interactive dashboard's state and behaviour, apart from the terminal: keys go in
/// (`handle`), screens of styled lines come out (`render`). `DashApp` connects it to curses;
/// tests drive it directly.
///
/// ```swift
/// let s = DashSession(boards: boards, board: "overview", engine: engine, range: nil, filter: nil)
/// s.refresh()
/// for k in Key.parse("/provider = 'openai'<Enter>") { s.handle(k) }
/// let lines = s.render(width: 100, height: 30)
/// ```
public final class DashSession {
    public let boards: [Dashboard]
    public var board: Int
    public var engine: QueryEngine
    /// The dashboard's time range ("1h"); `t` changes it.
    public var range: String
    /// The range was chosen (`--range` or `t`): it stays when another dashboard opens.
    var rangeChosen: Bool
    /// The `/` filter, applied to every panel.
    public var filter: String?
    public var paused = false
    public var unicode: Bool
    /// Draw as of a fixed time (tests, `--now`) instead of the clock.
    public let fixedNow: Int64?
    public internal(set) var quitRequested = false

    var results: [PanelResult] = []
    var focus = 0
    var selection = 0
    var scroll = 0
    var stack: [Screen] = []
    var prompt: Prompt?
    var message: (text: String, style: Style)?
    var width = 80
    var height = 24
    /// When the panels were last queried, and how long that took (shown in the header).
    public internal(set) var refreshedAt: Int64 = 0
    public private(set) var refreshMillis = 0.0

    public static let ranges = ["15m", "1h", "6h", "24h", "7d", "30d"]
    /// Incidents are judged by the minute: a live refresh reuses an incidents panel's result for
    /// this long (`r`, a new range or filter judge again at once).
    public var incidentsEvery: Int64 = 15_000_000
    var incidents: (at: Int64, board: Int, range: String, filter: String?, results: [Int: PanelResult])?
    public static let minimumSize = (width: 80, height: 24)

    /// What sits above the dashboard: the help, a list of spans, one span.
    enum Screen {
        case help(scroll: Int)
        case spans(SpanList)
        case detail(SpanDetail)
    }

    /// The line being typed at the bottom.
    enum Prompt: Equatable {
        case filter(String)
        case goto(String)
        case range
    }

    public init(boards: [Dashboard], board: String, engine: QueryEngine, range: String?, filter: String?,
                unicode: Bool = true, fixedNow: Int64? = nil) {
        self.boards = boards
        self.board = boards.firstIndex { $0.name == board } ?? 0
        self.engine = engine
        // Frames after the first read only the row groups at the edge of the range and new spans.
        if self.engine.cache == nil { self.engine.cache = PartialAggregateCache() }
        if self.engine.minuteParts == nil { self.engine.minuteParts = MinutePartCache() }
        // Every panel reads the newest row groups and the one at the range's edge.
        if self.engine.columnCache == nil { self.engine.columnCache = ColumnCache(budget: 64 << 20) }
        self.range = range ?? boards[self.board].range
        self.rangeChosen = range != nil
        self.filter = filter
        self.unicode = unicode
        self.fixedNow = fixedNow
    }

    var current: Dashboard { boards[board] }

    func frame() -> Frame {
        Frame(board: current, engine: engine, range: range, filter: filter, width: width, unicode: unicode)
    }

    /// Queries every panel again as of `time` (default: now, unless the time is fixed).
    public func refresh(at time: Int64? = nil) {
        engine.now = time ?? fixedNow ?? Timestamp.nowMicros()
        let started = Timestamp.nowMicros()
        // Every panel (and a drill-down from this frame) sees the same store: one catalog
        // read and one WAL tail a frame.
        engine.takeView()
        let board = current, now = engine.now
        let recent = incidents.flatMap { k in
            k.board == self.board && k.range == range && k.filter == filter && now >= k.at && now - k.at < incidentsEvery ? k.results : nil
        }
        do {
            results = try frame().results { i in board.panels[i].visual == .incidents ? recent?[i] : nil }
            if recent == nil {
                var kept: [Int: PanelResult] = [:]
                for i in board.panels.indices where board.panels[i].visual == .incidents { kept[i] = results[i] }
                incidents = (now, self.board, range, filter, kept)
            }
        } catch { message = ("\(error)", .crit) }
        refreshedAt = Timestamp.nowMicros()
        refreshMillis = Double(refreshedAt - started) / 1000
        let layout = frame().layout(results)
        if focus >= current.panels.count { focus = layout.order.first ?? 0 }
        selection = min(selection, max(0, layout.selectable[focus] - 1))
    }

    /// Sets the terminal size the next render fills.
    public func resize(width: Int, height: Int) {
        self.width = width; self.height = height
    }
}
