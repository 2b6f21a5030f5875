import CNCursesW
import PlumbCore

extension LinkedLibrary {
    /// The dashboard's terminal.
    public static var ncursesw: LinkedLibrary { LinkedLibrary(name: "ncursesw", version: String(cString: curses_version())) }
}
