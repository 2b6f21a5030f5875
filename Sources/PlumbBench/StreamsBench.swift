import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// `plumb-bench streams --url URL [--streams 8000] [--ramp 10] [--header 'K: V']...`: holds many
/// streamed chat completions open at once, the real shape of LLM traffic (issue 24). Opens one
/// connection per stream, spread over `--ramp` seconds, sends the shared streaming request and
/// reads the answer to its end; prints how many completed, time to the first body byte (from the
/// request's write) at p50/p99/max, and the longest stream. Figures only, asserted nowhere.
///
/// ```
/// plumb-bench streams --url http://127.0.0.1:8787 --streams 8000 \
///     --header 'X-Mock-Chunk-Delay-Ms: 100' --header 'X-Mock-Output-Words: 300'
/// ```
/// One event loop thread: the client must cost far less than what it measures.
enum StreamsBench {
    struct Options {
        var url = ""
        var streams = 8_000
        var ramp = 10.0
        var headers: [(String, String)] = []
        var timeout = 120.0
    }

    final class Results: @unchecked Sendable {
        private let lock = NIOLock()
        var ttfb: [Double] = [], durations: [Double] = [], failures: [String: Int] = [:], bytes = 0
        func finished(ttfb: Double?, duration: Double, bytes: Int, failure: String?) {
            lock.withLock {
                if let failure { self.failures[failure, default: 0] += 1; return }
                if let ttfb { self.ttfb.append(ttfb) }
                self.durations.append(duration)
                self.bytes += bytes
            }
        }
        var done: Int { lock.withLock { durations.count + failures.values.reduce(0, +) } }
    }

    /// One stream: the request, then the answer's parts as they come.
    final class StreamHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart
        let head: HTTPRequestHead, body: ByteBuffer, results: Results
        var sentAt: UInt64 = 0, firstByte: UInt64?, bytes = 0, status = 0, over = false

        init(head: HTTPRequestHead, body: ByteBuffer, results: Results) {
            self.head = head; self.body = body; self.results = results
        }

        func channelActive(context: ChannelHandlerContext) {
            sentAt = DispatchTime.now().uptimeNanoseconds
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): status = Int(h.status.code)
            case .body(let b):
                if firstByte == nil { firstByte = DispatchTime.now().uptimeNanoseconds }
                bytes += b.readableBytes
            case .end:
                finish(failure: status == 200 ? nil : "HTTP \(status)")
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) { finish(failure: "closed before the end") }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            finish(failure: "\(error)")
            context.close(promise: nil)
        }

        func finish(failure: String?) {
            guard !over else { return }
            over = true
            let now = DispatchTime.now().uptimeNanoseconds
            results.finished(ttfb: firstByte.map { Double($0 - sentAt) / 1e6 }, duration: Double(now - sentAt) / 1e9,
                             bytes: bytes, failure: failure)
        }
    }

    static func run(_ args: [String]) -> Int32 {
        var o = Options()
        var i = 0
        while i < args.count {
            let value = i + 1 < args.count ? args[i + 1] : ""
            switch args[i] {
            case "--url": o.url = value
            case "--streams": o.streams = Int(value) ?? o.streams
            case "--ramp": o.ramp = Double(value) ?? o.ramp
            case "--timeout": o.timeout = Double(value) ?? o.timeout
            case "--header":
                let parts = value.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2 { o.headers.append((parts[0], parts[1])) }
            default: FileHandle.standardError.write(Data("unknown option \(args[i])\n".utf8)); return 2
            }
            i += 2
        }
        guard let url = URL(string: o.url), let host = url.host, let port = url.port else {
            FileHandle.standardError.write(Data("--url http://HOST:PORT is required\n".utf8)); return 2
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let prompt = String(repeating: "Summarise the following log line for the on-call engineer. ", count: 15)
        let json = #"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"\#(prompt)"}]}"#
        var headers = HTTPHeaders([("Host", "\(host):\(port)"), ("Content-Type", "application/json"),
                                   ("Authorization", "Bearer sk-bench"), ("Content-Length", "\(json.utf8.count)")])
        for (k, v) in o.headers { headers.add(name: k, value: v) }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions", headers: headers)
        let body = ByteBuffer(string: json)
        let results = Results()
        let start = Date()
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(StreamHandler(head: head, body: body, results: results))
                }
            }
        let loop = group.next()
        let gap = o.ramp / Double(max(1, o.streams))
        for k in 0..<o.streams {
            _ = loop.scheduleTask(in: .nanoseconds(Int64(Double(k) * gap * 1e9))) {
                bootstrap.connect(host: host, port: port).whenFailure { e in
                    results.finished(ttfb: nil, duration: 0, bytes: 0, failure: "connect: \(e)")
                }
            }
        }
        while results.done < o.streams && Date().timeIntervalSince(start) < o.timeout + o.ramp { usleep(100_000) }
        let elapsed = Date().timeIntervalSince(start)
        let t = results.ttfb.sorted(), d = results.durations.sorted()
        func pct(_ a: [Double], _ p: Double) -> Double { a.isEmpty ? 0 : a[min(a.count - 1, Int(Double(a.count) * p))] }
        print(String(format: "streams: %d started, %d completed, %d failed in %.1f s; %d bytes", o.streams, d.count,
                     results.failures.values.reduce(0, +), elapsed, results.bytes))
        print(String(format: "ttfb_ms: p50=%.3f p99=%.3f max=%.3f; stream_s: p50=%.2f max=%.2f",
                     pct(t, 0.5), pct(t, 0.99), t.last ?? 0, pct(d, 0.5), d.last ?? 0))
        for (f, n) in results.failures.sorted(by: { $0.value > $1.value }).prefix(5) { print("failure \(n)x: \(f)") }
        return 0
    }
}
