import Foundation

/// `plumb demo`: the mock upstream, `plumb serve` in front of it on a throwaway data directory,
/// and traffic through it (with an incident now and then), so that a newcomer sees a living
/// dashboard at once.
///
/// ```swift
/// let demo = try Demo.start(Demo.Options(directory: "/tmp/plumb-demo", plumb: "/usr/bin/plumb", mock: "/usr/bin/plumb-mock"))
/// defer { demo.stop() }
/// print(demo.serve.url, demo.dataDirectory)
/// ```
public final class Demo: @unchecked Sendable {
    public struct Options: Sendable {
        /// Holds the data directory (`data/`), the config and the servers' logs.
        public var directory: String
        public var plumb: String
        public var mock: String
        public var rate: Double = 15
        public var incidentEvery: Double = 120
        public var incidentLength: Double = 45

        public init(directory: String, plumb: String, mock: String) {
            self.directory = directory; self.plumb = plumb; self.mock = mock
        }
    }

    public let mock: ChildProcess
    public let serve: ChildProcess
    public let traffic: DemoTraffic
    public let dataDirectory: String

    init(mock: ChildProcess, serve: ChildProcess, traffic: DemoTraffic, dataDirectory: String) {
        self.mock = mock; self.serve = serve; self.traffic = traffic; self.dataDirectory = dataDirectory
    }

    public static func start(_ o: Options) throws -> Demo {
        try FileManager.default.createDirectory(atPath: o.directory, withIntermediateDirectories: true)
        let mock = try ChildProcess.start(o.mock, ["--listen", "127.0.0.1:0"], log: o.directory + "/mock.log")
        // Every provider the traffic uses goes to the mock.
        let config = o.directory + "/demo.toml"
        let text = DemoTraffic.providers.map { "[providers.\($0)]\nbase_url = \"\(mock.url)\"\n" }.joined(separator: "\n")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let data = o.directory + "/data"
        let serve: ChildProcess
        do {
            serve = try ChildProcess.start(o.plumb, ["serve", "--config", config, "--data", data, "--listen", "127.0.0.1:0"],
                                           log: o.directory + "/serve.log")
        } catch { mock.stop(); throw error }
        let address = serve.url.dropFirst("http://".count)
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            serve.stop(); mock.stop()
            throw ChildProcess.Failed(description: "plumb serve gave no usable address: \(serve.url)")
        }
        let traffic = DemoTraffic(host: String(address[..<colon]), port: port, rate: o.rate)
        traffic.incidentEvery = o.incidentEvery
        traffic.incidentLength = o.incidentLength
        traffic.start()
        TerminalGuard.alsoStop([mock.pid, serve.pid])
        return Demo(mock: mock, serve: serve, traffic: traffic, dataDirectory: data)
    }

    /// Stops the traffic, then `plumb serve` (which publishes what it holds), then the mock.
    public func stop() {
        traffic.stop()
        serve.stop()
        mock.stop()
        TerminalGuard.alsoStop([])
    }
}
