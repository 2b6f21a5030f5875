#if canImport(Glibc)
import Glibc
#endif

// Set once before curses starts, read by signal handlers (which may not take locks).
nonisolated(unsafe) private var savedModes = termios()
nonisolated(unsafe) private var guarding = false
// Child processes to stop with us (`plumb demo`'s servers): a fixed array, readable in a handler.
nonisolated(unsafe) private var children: (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)

/// Puts the terminal back as it was if the dashboard dies: on Ctrl-C, SIGTERM and SIGHUP it
/// restores the terminal and exits; on a crash (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT,
/// SIGFPE) it restores it and lets the signal kill the process as it would have. Only
/// async-signal-safe calls: `write` of fixed escape sequences and `tcsetattr`. (kill -9 cannot
/// be caught; `reset` fixes the terminal then.)
///
/// ```swift
/// TerminalGuard.install()      // before initscr()
/// defer { TerminalGuard.uninstall() }
/// ```
public enum TerminalGuard {
    static let exitSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    static let crashSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE]

    public static func install() {
        guard tcgetattr(0, &savedModes) == 0 else { return }
        guarding = true
        for s in exitSignals { signal(s, onExitSignal) }
        for s in crashSignals { signal(s, onCrashSignal) }
    }

    public static func uninstall() {
        guarding = false
        for s in exitSignals + crashSignals { signal(s, SIG_DFL) }
    }

    /// Processes sent SIGTERM when a signal ends this one (at most four).
    public static func alsoStop(_ pids: [Int32]) {
        let p = pids + [0, 0, 0, 0]
        children = (p[0], p[1], p[2], p[3])
    }

    /// Ends the children (async-signal-safe: `kill` only).
    static func stopChildren() {
        for pid in [children.0, children.1, children.2, children.3] where pid > 0 { kill(pid, SIGTERM) }
    }

    /// Leave the alternate screen, show the cursor, reset colours and keypad mode, and restore
    /// the saved line discipline (echo, canonical input).
    static func restore() {
        guard guarding else { return }
        let reset: StaticString = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1l\u{1B}>\u{1B}[?1049l\r\n"
        _ = write(1, reset.utf8Start, reset.utf8CodeUnitCount)
        _ = tcsetattr(0, TCSANOW, &savedModes)
    }
}

private func onExitSignal(_ sig: Int32) {
    TerminalGuard.restore()
    TerminalGuard.stopChildren()
    _exit(128 + sig)
}

private func onCrashSignal(_ sig: Int32) {
    TerminalGuard.restore()
    TerminalGuard.stopChildren()
    signal(sig, SIG_DFL)
    raise(sig)
}
