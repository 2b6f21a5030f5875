import Foundation

/// `MinutePart`s of row groups kept between a live dashboard's incident judgements: a row
/// group's part is its whole content's (the window is applied when parts are added up), so it
/// holds for as long as the segment does. Keyed by segment SHA-256 and row group; parts not
/// used by the latest judgement (row groups now outside the window, compacted away) are dropped.
///
/// ```swift
/// var engine = QueryEngine(directory: dir)
/// engine.minuteParts = MinutePartCache()
/// _ = try IncidentDetector(engine: engine).detect(since: engine.now - 86_400_000_000, until: engine.now)
/// ```
public final class MinutePartCache: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String: (part: MinutePart, run: Int)] = [:]
    private var run = 0
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init() {}

    func begin() -> Int {
        lock.lock(); defer { lock.unlock() }
        run += 1
        return run
    }

    func part(_ key: String, run: Int) -> MinutePart? {
        lock.lock(); defer { lock.unlock() }
        guard let e = parts[key] else { misses += 1; return nil }
        parts[key] = (e.part, run)
        hits += 1
        return e.part
    }

    func keep(_ key: String, _ part: MinutePart, run: Int) {
        lock.lock(); defer { lock.unlock() }
        parts[key] = (part, run)
    }

    func end(run: Int) {
        lock.lock(); defer { lock.unlock() }
        parts = parts.filter { $0.value.run == run }
    }

    /// Row groups' parts held.
    public var count: Int {
        lock.lock(); defer { lock.unlock() }
        return parts.count
    }
}
