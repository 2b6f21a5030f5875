import Foundation

/// A server the demo runs as a child process: started, awaited until it prints the address it
/// listens on, its output kept in a log file (never on the terminal the dashboard draws on), and
/// stopped with SIGTERM.
///
/// ```swift
/// let mock = try ChildProcess.start("/path/plumb-mock", ["--listen", "127.0.0.1:0"], log: "/tmp/mock.log")
/// print(mock.url)          // http://127.0.0.1:40123
/// mock.stop()
/// ```
public final class ChildProcess: @unchecked Sendable {
    public let process: Process
    public let url: String

    public struct Failed: Error, CustomStringConvertible {
        public var description: String
    }

    init(process: Process, url: String) { self.process = process; self.url = url }

    public static func start(_ executable: String, _ arguments: [String], log: String, timeout: Double = 30) throws -> ChildProcess {
        guard FileManager.default.isExecutableFile(atPath: executable) else { throw Failed(description: "\(executable) not found") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        FileManager.default.createFile(atPath: log, contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardError = logHandle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read its output on a thread: wait for the address, then keep draining into the log.
        let found = LockedValue<String?>(nil)
        let ready = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var pending = Data()
            var announced = false
            while true {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                logHandle.write(chunk)
                guard !announced else { continue }
                pending.append(chunk)
                let text = String(decoding: pending, as: UTF8.self)
                if let r = text.range(of: #"listening on (http://[^\s]+)"#, options: .regularExpression) {
                    found.set(String(text[r].dropFirst("listening on ".count)))
                    announced = true
                    ready.signal()
                }
            }
            if !announced { ready.signal() }
        }
        guard ready.wait(timeout: .now() + timeout) == .success, let url = found.get() else {
            p.terminate()
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(3).joined(separator: "; ") ?? ""
            throw Failed(description: "\((executable as NSString).lastPathComponent) did not start\(tail.isEmpty ? "" : ": \(tail)")")
        }
        return ChildProcess(process: p, url: url)
    }

    public var pid: Int32 { process.processIdentifier }

    /// SIGTERM, then up to `grace` seconds for it to finish (SIGKILL after).
    public func stop(grace: Double = 10) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A value shared between threads behind a lock.
final class LockedValue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func update<R>(_ f: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return f(&value) }
}
