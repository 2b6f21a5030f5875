#if canImport(Glibc)
import Glibc
#endif
import CNCursesW
import PlumbCore

/// The terminal through ncursesw: draws screens of styled lines (curses sends only what
/// changed), reads keys with a timeout, and knows whether it may use colour (not when NO_COLOR
/// is set) and Unicode (only in a UTF-8 locale).
///
/// ```swift
/// let screen = CursesScreen.start()
/// defer { screen.stop() }
/// screen.draw(lines)
/// let key = screen.read(timeoutMillis: 200)
/// ```
public final class CursesScreen {
    let window: OpaquePointer
    public let color: Bool
    public let unicode: Bool

    /// Starts curses on the terminal (the alternate screen; no echo; keys one at a time).
    public static func start(forceASCII: Bool = false) -> CursesScreen? {
        setlocale(LC_ALL, "")
        let utf8 = String(cString: nl_langinfo(nl_item(CODESET))).uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
        TerminalGuard.install()
        guard let w = initscr() else { TerminalGuard.uninstall(); return nil }
        cbreak(); noecho(); nonl()
        keypad(w, true)
        set_escdelay(25)
        curs_set(0)
        let noColor = !(getenv("NO_COLOR").map { String(cString: $0) } ?? "").isEmpty
        let color = !noColor && has_colors()
        if color {
            start_color()
            use_default_colors()
            let pairs: [(Int16, Int16, Int16)] = [
                (1, Int16(COLOR_CYAN), -1), (2, Int16(COLOR_BLACK), Int16(COLOR_CYAN)), (4, Int16(COLOR_GREEN), -1),
                (5, Int16(COLOR_YELLOW), -1), (6, Int16(COLOR_RED), -1), (8, Int16(COLOR_BLUE), -1),
                (9, Int16(COLOR_BLACK), Int16(COLOR_WHITE)),
            ]
            for (n, f, b) in pairs { init_pair(n, f, b) }
        }
        return CursesScreen(window: OpaquePointer(w), color: color, unicode: utf8 && !forceASCII)
    }

    init(window: OpaquePointer, color: Bool, unicode: Bool) {
        self.window = window; self.color = color; self.unicode = unicode
    }

    /// Ends curses and gives the terminal back as it was.
    public func stop() {
        endwin()
        TerminalGuard.uninstall()
    }

    public var size: (width: Int, height: Int) {
        (Int(getmaxx(UnsafeMutablePointer(window))), Int(getmaxy(UnsafeMutablePointer(window))))
    }

    // ncurses attribute bits (curses.h: NCURSES_BITS(mask, shift) = mask << (shift + 8)).
    static let bold: UInt32 = 1 << 21, reverse: UInt32 = 1 << 18, dim: UInt32 = 1 << 20, underline: UInt32 = 1 << 17
    static func pair(_ n: UInt32) -> UInt32 { n << 8 }

    func attributes(_ s: Style) -> UInt32 {
        if color {
            switch s {
            case .plain: return 0
            case .heading: return Self.bold
            case .title: return Self.pair(1) | Self.bold
            case .focused: return Self.pair(2) | Self.bold
            case .selected: return Self.reverse
            case .ok: return Self.pair(4)
            case .warn: return Self.pair(5) | Self.bold
            case .crit: return Self.pair(6) | Self.bold
            case .dim: return Self.dim
            case .bar: return Self.pair(8)
            case .status: return Self.pair(9)
            }
        }
        switch s {
        case .plain, .ok, .bar: return 0
        case .heading, .title, .warn: return Self.bold
        case .focused: return Self.reverse | Self.bold
        case .selected, .status: return Self.reverse
        case .crit: return Self.bold | Self.underline
        case .dim: return Self.dim
        }
    }

    /// Draws a whole screen.
    public func draw(_ lines: [StyledLine]) {
        let w = UnsafeMutablePointer<WINDOW>(window)
        werase(w)
        let (width, height) = size
        for (y, line) in lines.prefix(height).enumerated() {
            var x = 0
            for run in line.runs where x < width {
                wattrset(w, Int32(bitPattern: attributes(run.style)))
                let text = unicode ? run.text : Self.ascii(run.text)
                // The last cell of the last line cannot be written without scrolling: stop short of it.
                let room = y == height - 1 ? width - 1 - x : width - x
                let cut = DisplayWidth.prefix(text, fitting: room)
                _ = mvwaddstr(w, Int32(y), Int32(x), cut)
                x += DisplayWidth.of(cut)
            }
        }
        wattrset(w, 0)
        wrefresh(w)
    }

    /// Text for a terminal that cannot show Unicode: the frame's own marks get ASCII look-alikes.
    static func ascii(_ s: String) -> String {
        let map: [Unicode.Scalar: Character] = ["…": "~", "█": "#", "─": "-", "·": "|", "–": "-"]
        return String(s.unicodeScalars.map { $0.isASCII ? Character($0) : (map[$0] ?? "?") })
    }

    /// The next key, or nil after `timeoutMillis` without one.
    public func read(timeoutMillis: Int32) -> Key? {
        let w = UnsafeMutablePointer<WINDOW>(window)
        wtimeout(w, timeoutMillis)
        var ch: wint_t = 0
        let r = wget_wch(w, &ch)
        if r == ERR { return nil }
        if r == KEY_CODE_YES {
            switch Int32(ch) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_NPAGE: return .pageDown
            case KEY_PPAGE: return .pageUp
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_BTAB: return .backTab
            case KEY_ENTER: return .enter
            case KEY_BACKSPACE: return .backspace
            case KEY_RESIZE: return .resize
            default: return nil
            }
        }
        switch ch {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 12: return .redraw
        default: return Unicode.Scalar(UInt32(ch)).map { .char(Character($0)) }
        }
    }
}
