import Foundation
import PlumbCore

/// The last few thousand spans by id, so `/_plumb/spans/<id>` answers at once for a call that
/// just finished, before its segment is published.
final class RecentSpans: @unchecked Sendable {
    private let lock = NSLock()
    private var byID: [String: Span] = [:]
    private var order: [String] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
        order.reserveCapacity(capacity)
    }

    func add(_ span: Span) {
        lock.lock(); defer { lock.unlock() }
        if order.count < capacity {
            order.append(span.spanID)
        } else {
            byID[order[next]] = nil
            order[next] = span.spanID
            next = (next + 1) % capacity
        }
        byID[span.spanID] = span
    }

    func find(_ id: String) -> Span? {
        lock.lock(); defer { lock.unlock() }
        return byID[id]
    }
}
