import PlumbCore
import PlumbStore

/// The live dashboard: a session on a curses screen, refreshed every `interval` seconds unless
/// paused, redrawn after each key and each refresh.
///
/// ```swift
/// try DashApp.run(session, interval: 2, forceASCII: false)
/// ```
public enum DashApp {
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String { "could not start the terminal (is TERM set?)" }
    }

    public static func run(_ session: DashSession, interval: Double, forceASCII: Bool) throws {
        guard let screen = CursesScreen.start(forceASCII: forceASCII) else { throw Unavailable() }
        defer { screen.stop() }
        session.unicode = screen.unicode
        PageCache.shared.enable(budget: PageCache.defaultBudget)      // frame after frame reads the same pages
        let every = Int64(interval * 1_000_000)
        var (w, h) = screen.size
        screen.draw(session.render(width: w, height: h))
        session.refresh()
        var dirty = true
        while !session.quitRequested {
            if dirty {
                (w, h) = screen.size
                screen.draw(session.render(width: w, height: h))
                dirty = false
            }
            if let key = screen.read(timeoutMillis: 100) {
                session.handle(key)
                dirty = true
            }
            if !session.paused && Timestamp.nowMicros() - session.refreshedAt >= every {
                session.refresh()
                dirty = true
            }
        }
    }
}
