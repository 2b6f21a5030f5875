#if canImport(Glibc)
import Glibc
#endif

/// Facts about the terminal on stdout.
public enum Terminal {
    /// Columns of the terminal on stdout; nil when stdout is not a terminal.
    public static func width() -> Int? {
        guard isatty(1) != 0 else { return nil }
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        return 80
    }
}

/// Buffered stdout for large outputs (one write per 64 KiB instead of one per line).
public final class StandardOutput {
    private var buffer: [UInt8] = []

    public init() { buffer.reserveCapacity(1 << 16) }

    public func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    public func flush() {
        var off = 0
        while off < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { if errno == EINTR { continue }; break }
            off += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
