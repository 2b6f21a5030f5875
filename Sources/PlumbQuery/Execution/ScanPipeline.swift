import Foundation

/// Loads items (row groups) on `threads` threads, a bounded window ahead of the consumer, and
/// hands them over in order: decoding and filtering run in parallel while the caller aggregates.
/// The caller is one of the threads: `threads - 1` workers start, and a caller waiting for an item
/// loads the next one not yet started (within the window) instead of idling. A worker per
/// thread besides the caller put one runnable thread more than `threads` on the cores.
///
/// ```swift
/// let p = ScanPipeline(count: groups.count, threads: 2) { k in try load(groups[k]) }
/// for k in 0..<groups.count { let batch = try p.take(k) }
/// p.finish()
/// ```
final class ScanPipeline<T: Sendable>: @unchecked Sendable {
    private let cond = NSCondition()
    private let count: Int
    private let window: Int
    private let load: @Sendable (Int) throws -> T
    private var next = 0                 // next item a worker will take
    private var consumed = 0             // items handed to the consumer
    private var ready: [Int: Result<T, Error>] = [:]
    private var stopped = false
    private var running = 0

    init(count: Int, threads: Int, load: @escaping @Sendable (Int) throws -> T) {
        self.count = count
        self.load = load
        window = max(2, threads * 2)
        running = max(threads - 1, 1)
        for _ in 0..<running {
            let t = Thread { [self] in work() }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    private func work() {
        while true {
            cond.lock()
            while !stopped && next < count && next >= consumed + window { cond.wait() }
            if stopped || next >= count {
                running -= 1
                cond.broadcast()
                cond.unlock()
                return
            }
            let k = next
            next += 1
            cond.unlock()
            let r = Result { try load(k) }
            cond.lock()
            ready[k] = r
            cond.broadcast()
            cond.unlock()
        }
    }

    /// Item `k` (items must be taken in order 0, 1, 2, ...).
    func take(_ k: Int) throws -> T {
        cond.lock()
        while ready[k] == nil {
            // Not ready: load the next item nobody has started (k itself, or one ahead).
            if !stopped && next < count && (next == k || next < consumed + window) {
                let j = next
                next += 1
                cond.unlock()
                let r = Result { try load(j) }
                cond.lock()
                ready[j] = r
                cond.broadcast()
                continue
            }
            cond.wait()
        }
        let r = ready.removeValue(forKey: k)!
        consumed = k + 1
        cond.broadcast()
        cond.unlock()
        return try r.get()
    }

    /// Stops the workers (early, on LIMIT or an error) and waits for them to leave.
    func finish() {
        cond.lock()
        stopped = true
        cond.broadcast()
        while running > 0 { cond.wait() }
        cond.unlock()
    }
}
