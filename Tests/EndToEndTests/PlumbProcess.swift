import Foundation
import PlumbCore
import PlumbTestSupport

/// Runs the real `plumb` binary (PLUMB_BINARY, else .build/debug/plumb beside this package).
struct PlumbProcess {
    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["PLUMB_BINARY"], !b.isEmpty { return b }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/plumb").path
    }

    struct Result {
        var status: Int32
        var reason: Process.TerminationReason
        var stdout: String
        var stderr: String
    }

    /// Runs the binary to completion and captures both streams.
    static func run(_ args: [String], environment: [String: String] = [:]) throws -> Result {
        try run(executable: binary, args, environment: environment)
    }

    /// Runs any program (a wrapper such as `script` or `bash -c 'ulimit …; exec plumb …'`).
    /// stderr is drained on another thread so a chatty child never blocks on a full pipe.
    static func run(executable: String, _ args: [String], environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let errData = Box(Data())
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            drained.signal()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, reason: p.terminationReason,
                      stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// Starts the binary; stdout lines are delivered to `onLine` as they arrive.
    static func start(_ args: [String], onLine: @escaping @Sendable (String) -> Void) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let buffer = LineBuffer()
        out.fileHandleForReading.readabilityHandler = { h in
            let data = h.availableData
            if data.isEmpty { h.readabilityHandler = nil; return }
            for line in buffer.feed(data) { onLine(line) }
        }
        try p.run()
        return p
    }
}

final class LineBuffer: @unchecked Sendable {
    private var pending = Data()
    private let lock = NSLock()

    func feed(_ data: Data) -> [String] {
        lock.lock(); defer { lock.unlock() }
        pending.append(data)
        var lines: [String] = []
        while let nl = pending.firstIndex(of: 0x0A) {
            lines.append(String(decoding: pending[pending.startIndex..<nl], as: UTF8.self))
            pending.removeSubrange(pending.startIndex...nl)
        }
        return lines
    }
}

/// Writes `count` generated spans as a JSONL file; returns them as parsed back from their lines
/// (the form the store must hold).
func writeSpanFile(_ path: String, count: Int, seed: UInt64, bodies: Bool = false) throws -> [Span] {
    var gen = TestSpans(seed: seed)
    var text = ""
    var spans: [Span] = []
    spans.reserveCapacity(count)
    text.reserveCapacity(count * 600)
    for i in 0..<count {
        let line = gen.span(index: i, bodies: bodies).jsonLine()
        spans.append(try Span(json: JSONParser.parse(line)))
        text += line
        text += "\n"
    }
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    return spans
}

final class Box<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func update(_ f: (inout T) -> Void) { lock.lock(); f(&value); lock.unlock() }
}
