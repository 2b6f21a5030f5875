import Foundation

/// Plausible LLM traffic through a running `plumb serve` for `plumb demo`: OpenAI, Anthropic,
/// Gemini and Mistral calls in each one's wire format, streaming and not, from a few hundred
/// users in a few teams, at about `rate` requests a second; and now and then an incident: for
/// `incidentLength` seconds of every `incidentEvery`, one provider (in turn) fails most of its
/// calls, or (every third time) answers very slowly.
///
/// ```swift
/// let traffic = DemoTraffic(host: "127.0.0.1", port: 8787, rate: 15)
/// traffic.start()
/// ...
/// traffic.stop()
/// ```
public final class DemoTraffic: @unchecked Sendable {
    public let host: String
    public let port: UInt16
    public let rate: Double
    public var incidentEvery: Double = 120
    public var incidentLength: Double = 45
    let running = LockedValue(false)
    let workers = 64
    let queue = NSCondition()
    var pending: [Call] = []
    let counts = LockedValue((sent: 0, failed: 0))
    /// Left by each worker thread as it ends.
    private let workersDone = DispatchGroup()
    let started = Date()

    public init(host: String, port: UInt16, rate: Double) {
        self.host = host; self.port = port; self.rate = rate
    }

    struct Call {
        var provider: String
        var path: String
        var headers: [(String, String)]
        var body: String
    }

    static let models: [(provider: String, model: String, weight: Int)] = [
        ("openai", "gpt-4o-mini", 30), ("openai", "gpt-4.1-mini", 12), ("openai", "gpt-4o", 8),
        ("anthropic", "claude-sonnet-4-5", 12), ("anthropic", "claude-haiku-4-5", 10),
        ("gemini", "gemini-2.5-flash", 14), ("gemini", "gemini-2.5-pro", 4), ("mistral", "mistral-small-latest", 10),
    ]
    static let providers = ["openai", "anthropic", "gemini", "mistral"]

    /// The provider in trouble at `elapsed` seconds, and whether it is slow rather than failing.
    func incident(at elapsed: Double) -> (provider: String, slow: Bool)? {
        guard incidentEvery > 0 else { return nil }
        let k = Int(elapsed / incidentEvery)
        // The first incident comes after a quiet first period, so the baseline forms first.
        guard k >= 1, elapsed - Double(k) * incidentEvery < incidentLength else { return nil }
        return (Self.providers[(k - 1) % Self.providers.count], k % 3 == 0)
    }

    func call(_ rng: inout SystemRandomNumberGenerator) -> Call {
        let total = Self.models.reduce(0) { $0 + $1.weight }
        var pick = Int.random(in: 0..<total, using: &rng)
        let m = Self.models.first { pick -= $0.weight; return pick < 0 } ?? Self.models[0]
        let stream = Bool.random(using: &rng)
        let user = "user-\(Int.random(in: 1...300, using: &rng))"
        let team = ["search", "support", "ads", "research"][Int.random(in: 0..<4, using: &rng)]
        let words = Int.random(in: 8...120, using: &rng)
        var headers: [(String, String)] = [
            ("Plumb-User-Id", user), ("Plumb-Session-Id", "session-\(Int.random(in: 1...900, using: &rng))"),
            ("Plumb-Property-Team", team), ("X-Mock-Output-Words", String(words)),
            ("X-Mock-Latency-Ms", String(Int.random(in: 60...700, using: &rng))),
            ("X-Mock-Chunk-Delay-Ms", stream ? String(Int.random(in: 2...15, using: &rng)) : "0"),
        ]
        if let trouble = incident(at: Date().timeIntervalSince(started)), trouble.provider == m.provider {
            if trouble.slow {
                headers.removeAll { $0.0 == "X-Mock-Latency-Ms" }
                headers.append(("X-Mock-Latency-Ms", String(Int.random(in: 6_000...12_000, using: &rng))))
            }
            else if Double.random(in: 0..<1, using: &rng) < 0.7 {
                headers.append(("X-Mock-Fault", Double.random(in: 0..<1, using: &rng) < 0.8 ? "500" : "429"))
            }
        }
        let prompt = "Summarise ticket \(Int.random(in: 1000...9999, using: &rng)) for \(team)"
        let key = "demo-key-\(team)"
        switch m.provider {
        case "anthropic":
            headers += [("x-api-key", key), ("anthropic-version", "2023-06-01")]
            return Call(provider: m.provider, path: "/anthropic/v1/messages", headers: headers,
                        body: #"{"model":"\#(m.model)","max_tokens":512,"stream":\#(stream),"messages":[{"role":"user","content":"\#(prompt)"}]}"#)
        case "gemini":
            headers.append(("x-goog-api-key", key))
            let path = stream ? "/gemini/v1beta/models/\(m.model):streamGenerateContent?alt=sse" : "/gemini/v1beta/models/\(m.model):generateContent"
            return Call(provider: m.provider, path: path, headers: headers,
                        body: #"{"contents":[{"role":"user","parts":[{"text":"\#(prompt)"}]}]}"#)
        default:
            headers.append(("Authorization", "Bearer \(key)"))
            return Call(provider: m.provider, path: "/\(m.provider)/v1/chat/completions", headers: headers,
                        body: #"{"model":"\#(m.model)","stream":\#(stream),"messages":[{"role":"user","content":"\#(prompt)"}]}"#)
        }
    }

    /// One scheduler thread draws Poisson arrival times at `rate` and queues each call; a pool of
    /// `workers` threads makes them (blocking), so slow answers (streams, incidents) do not lower
    /// the rate. Calls still queued when the traffic stops are dropped.
    public func start() {
        running.set(true)
        for _ in 0..<workers {
            workersDone.enter()
            Thread.detachNewThread { [self] in
                defer { workersDone.leave() }
                while let c = nextCall() {
                    let status = DemoClient.post(host: host, port: port, path: c.path, headers: c.headers, body: Array(c.body.utf8))
                    counts.update { $0.sent += 1; if (status ?? 599) >= 500 { $0.failed += 1 } }
                }
            }
        }
        Thread.detachNewThread { [self] in
            var rng = SystemRandomNumberGenerator()
            var next = Date()
            while running.get() {
                next += -log(Double.random(in: 0.0001..<1, using: &rng)) / max(rate, 0.01)
                let wait = next.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: min(wait, 5)) }
                let c = call(&rng)
                queue.lock()
                if pending.count < 10 * workers { pending.append(c) }
                queue.signal()
                queue.unlock()
            }
        }
    }

    /// The next queued call; nil once the traffic stops.
    func nextCall() -> Call? {
        queue.lock(); defer { queue.unlock() }
        while pending.isEmpty && running.get() { queue.wait(until: Date().addingTimeInterval(0.2)) }
        guard running.get() else { return nil }
        return pending.removeFirst()
    }

    /// Stops queuing and waits (up to 30 s) for the calls already being made, so that every
    /// call counted as sent reached `plumb serve` before it is stopped.
    public func stop() {
        running.set(false)
        queue.lock(); pending.removeAll(); queue.broadcast(); queue.unlock()
        _ = workersDone.wait(timeout: .now() + 30)
    }

    /// Requests sent so far and how many of them failed.
    public var sent: (total: Int, failed: Int) { let c = counts.get(); return (c.sent, c.failed) }
}
