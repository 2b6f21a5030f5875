#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr, drawn only when stderr is a terminal and at most ten
/// times a second.
///
/// ```swift
/// var bar = ProgressBar(label: "import")
/// bar.update(done: 512, total: 1024, detail: "10,000 spans")
/// bar.finish()
/// ```
public struct ProgressBar {
    public let label: String
    public let enabled: Bool
    private var lastDraw: Int64 = 0

    public init(label: String, enabled: Bool = isatty(2) != 0) {
        self.label = label; self.enabled = enabled
    }

    public mutating func update(done: Int, total: Int, detail: String) {
        guard enabled else { return }
        let now = Timestamp.nowMicros()
        guard now - lastDraw >= 100_000 || (total > 0 && done >= total) else { return }
        lastDraw = now
        guard total > 0 else {                       // a pipe: no total to measure against
            writeStderr("\r\(label) \(detail)\u{1B}[K")
            return
        }
        let width = 30
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let pct = Int(fraction * 100)
        writeStderr("\r\(label) \(bar) \(pct)% \(detail)\u{1B}[K")
    }

    public func finish() {
        guard enabled else { return }
        writeStderr("\r\u{1B}[K")
    }
}

private func writeStderr(_ s: String) {
    var bytes = Array(s.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// Groups digits in threes: 1234567 → "1,234,567".
public func formatCount(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (k, c) in s.enumerated() {
        if k > 0 && (s.count - k) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}
