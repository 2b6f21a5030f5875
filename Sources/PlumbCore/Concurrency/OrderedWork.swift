import Foundation

/// Work done on a few threads and handed back in the order it was given: `plumb import` reads
/// pieces of its file on one thread, decodes them on every core, and stores them in file order.
/// Each thread makes its own worker once (a worker may keep scratch buffers between inputs).
/// The caller bounds what is in flight: it takes `next()` whenever `pending` reaches its window.
///
/// ```swift
/// let work = OrderedWork<[UInt8], Int>(threads: 2, name: "plumb-decode") { { bytes in bytes.count } }
/// work.submit(a); work.submit(b)
/// work.next()   // a.count, then b.count
/// work.close()
/// ```
public final class OrderedWork<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    private let cond = NSCondition()
    // Guarded by `cond`:
    private var queued: [(seq: Int, input: Input)?] = []
    private var queuedHead = 0
    private var done: [Int: Output] = [:]
    private var submitted = 0
    private var delivered = 0
    private var closing = false
    private var running = 0

    /// Starts `threads` threads, each running the worker `makeWorker` makes on it.
    public init(threads: Int, name: String, makeWorker: @escaping @Sendable () -> (Input) -> Output) {
        running = max(1, threads)
        for _ in 0..<running {
            Thread.detachNewThread { [self] in
                Thread.current.name = name
                let worker = makeWorker()
                while let (seq, input) = take() {
                    let output = worker(input)
                    cond.lock(); done[seq] = output; cond.broadcast(); cond.unlock()
                }
                cond.lock(); running -= 1; cond.broadcast(); cond.unlock()
            }
        }
    }

    deinit { close() }

    /// Inputs submitted whose outputs `next()` has not returned yet.
    public var pending: Int {
        cond.lock(); defer { cond.unlock() }
        return submitted - delivered
    }

    public func submit(_ input: Input) {
        cond.lock(); defer { cond.unlock() }
        precondition(!closing, "OrderedWork: submit after close")
        queued.append((submitted, input))
        submitted += 1
        cond.broadcast()
    }

    /// The output of the oldest input not yet returned, waiting for it; nil when none is pending.
    public func next() -> Output? {
        cond.lock(); defer { cond.unlock() }
        guard delivered < submitted else { return nil }
        while done[delivered] == nil { cond.wait() }
        let output = done.removeValue(forKey: delivered)
        delivered += 1
        return output
    }

    /// Lets the threads finish what is queued and end; waits for them.
    public func close() {
        cond.lock(); defer { cond.unlock() }
        closing = true
        cond.broadcast()
        while running > 0 { cond.wait() }
    }

    private func take() -> (Int, Input)? {
        cond.lock(); defer { cond.unlock() }
        while queuedHead == queued.count && !closing { cond.wait() }
        guard queuedHead < queued.count else { return nil }
        let item = queued[queuedHead]!
        queued[queuedHead] = nil            // the input is let go once its worker is done with it
        queuedHead += 1
        if queuedHead == queued.count || queuedHead >= 64 { queued.removeFirst(queuedHead); queuedHead = 0 }
        return item
    }
}
