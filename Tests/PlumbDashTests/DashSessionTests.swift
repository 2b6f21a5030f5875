import PlumbCore
import PlumbDash
import PlumbQuery
import PlumbStore
import PlumbTestSupport
import XCTest

/// The dashboard's behaviour without a terminal: keys in, screens out.
final class DashSessionTests: XCTestCase {
    func session(spans: Int = 0, board: String = "overview") throws -> DashSession {
        let dir = makeTempDirectory()
        if spans > 0 {
            let store = try SpanStore(directory: DataDirectory(dir), options: StoreOptions())
            var gen = TestSpans(seed: 7)
            for s in gen.spans(spans) { _ = store.append(s) }
            try store.sync()
            try store.close()
        }
        let engine = QueryEngine(directory: DataDirectory(dir), now: 1_795_255_200_000_000 + 3_600_000_000)
        return DashSession(boards: try ShippedDashboards.all(userDirectory: nil), board: board, engine: engine,
                           range: "24h", filter: nil, fixedNow: engine.now)
    }

    func screen(_ s: DashSession, _ w: Int = 100, _ h: Int = 30) -> [String] { s.render(width: w, height: h).map(\.text) }

    func testEveryScreenLineHasExactlyTheTerminalWidth() throws {
        let s = try session(spans: 200)
        s.refresh()
        for (w, h) in [(80, 24), (100, 30), (181, 50)] {
            let lines = s.render(width: w, height: h)
            XCTAssertEqual(lines.count, h)
            for l in lines { XCTAssertEqual(DisplayWidth.of(l.text), w, l.text) }
        }
    }

    /// A frame keeps the decoded columns that four or more of its panels read, and only those.
    func testAFrameKeepsTheColumnsItsPanelsShare() throws {
        let boards = try ShippedDashboards.all(userDirectory: nil)
        let engine = QueryEngine(directory: DataDirectory(makeTempDirectory()))
        func shared(_ name: String, only: Set<Int>? = nil) -> Set<String> {
            let board = boards.first { $0.name == name }!
            return Frame(board: board, engine: engine, range: "24h", filter: nil, width: 100)
                .sharedColumns(board.panels.indices.map { only?.contains($0) ?? true })
        }
        XCTAssertEqual(shared("spend"), ["ts_start", "cost_usd"])
        XCTAssertEqual(shared("spend", only: [3]), [], "one panel to run shares nothing")
        XCTAssertEqual(shared("spend", only: [2, 3, 4]), [], "three readers are not enough")
        XCTAssertEqual(shared("spend", only: [2, 3, 4, 5]), ["ts_start", "cost_usd"])
        XCTAssertEqual(shared("incidents"), [], "its three queries share no column four times")
        XCTAssertEqual(shared("overview"), ["ts_start"])
    }

    func testTooSmallSaysSo() throws {
        let s = try session()
        let lines = screen(s, 79, 30)
        XCTAssertEqual(lines[0].trimmingCharacters(in: .whitespaces), "terminal too small (79x30): plumb dash needs at least 80x24")
        XCTAssertEqual(lines.count, 30)
    }

    func testQuitFilterAndItsError() throws {
        let s = try session(spans: 50)
        s.refresh()
        for k in Key.parse("/provider = 'nope' AND statsu > 1<Enter>") { s.handle(k) }
        XCTAssertNil(s.filter)
        XCTAssertTrue(screen(s).last!.contains("unknown column \"statsu\" at column 23"), screen(s).last!)
        for k in Key.parse("<Esc>/provider = 'openai'<Enter>") { s.handle(k) }
        XCTAssertEqual(s.filter, "provider = 'openai'")
        for k in Key.parse("/<BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><BS><Enter>") { s.handle(k) }
        XCTAssertNil(s.filter)
        XCTAssertFalse(s.quitRequested)
        s.handle(.char("q"))
        XCTAssertTrue(s.quitRequested)
    }

    func testRangeKeyAndDashboardSwitchKeepTheChosenRange() throws {
        let s = try session()
        s.refresh()
        for k in Key.parse("t2") { s.handle(k) }
        XCTAssertEqual(s.range, "1h")
        for k in Key.parse(":sp<Tab><Enter>") { s.handle(k) }
        XCTAssertTrue(screen(s)[0].contains("Spend · last 1h"), screen(s)[0])
        for k in Key.parse(":nosuch<Enter>") { s.handle(k) }
        XCTAssertTrue(screen(s).last!.contains("no dashboard 'nosuch'"))
    }

    func testDrillConditions() {
        let bars = Dashboard.Panel(title: "By model", query: "", visual: .bars, unit: "", warn: nil, crit: nil, row: 0, width: 1,
                                   drill: "coalesce(model, '(none)') = $1", height: 8)
        XCTAssertEqual(Drill.of(bars, names: ["model", "n"], row: [.string("o'x"), .int(3)]).condition, "coalesce(model, '(none)') = 'o''x'")
        var table = bars
        table.drill = nil
        table.visual = .table
        let d = Drill.of(table, names: ["provider", "model", "requests", "status"], row: [.string("openai"), .null, .int(4), .int(500)])
        XCTAssertEqual(d.condition, "provider = 'openai' AND model IS NULL AND status = 500")
        XCTAssertEqual(Drill.literal(.timestamp(0)), "TIMESTAMP '1970-01-01T00:00:00.000000Z'")
    }

    func testKeyScripts() {
        XCTAssertEqual(Key.parse("a<Enter><S-Tab><x>"), [.char("a"), .enter, .backTab, .char("<"), .char("x"), .char(">")])
    }

    func testStyledLineFitsWideText() {
        var l = StyledLine("模型", .title)
        l.append("-abc", .plain)
        XCTAssertEqual(l.fitted(4).text, "模… ")
        XCTAssertEqual(l.fitted(9).text, "模型-abc ")
        XCTAssertEqual(l.fitted(9).runs.map(\.style), [.title, .plain])
    }
}
