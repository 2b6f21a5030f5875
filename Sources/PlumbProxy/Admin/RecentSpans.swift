import Foundation
import PlumbCore

/// The last few thousand spans, so `/_plumb/spans/<id>` answers at once for a call that just
/// finished, before its segment is published. A ring: recording a span is one store (the proxy
/// records every call), finding one is a scan (an admin lookup, rare).
final class RecentSpans: @unchecked Sendable {
    private let lock = NSLock()
    private var ring: [Span] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
        ring.reserveCapacity(capacity)
    }

    func add(_ span: Span) {
        lock.lock(); defer { lock.unlock() }
        if ring.count < capacity { ring.append(span); return }
        ring[next] = span
        next = next + 1 == capacity ? 0 : next + 1
    }

    func find(_ id: String) -> Span? {
        lock.lock(); defer { lock.unlock() }
        return ring.last { $0.spanID == id }
    }
}
