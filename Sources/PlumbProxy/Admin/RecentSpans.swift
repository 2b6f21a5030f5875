import Foundation
import NIOCore
import PlumbCore

/// The last spans recorded, so `/_plumb/spans/<id>` answers at once for a call that just
/// finished, before its segment is published. Bounded twice: at most `capacity` spans and
/// `byteBudget` bytes of bodies and strings (at the default body cap, 4,096 spans with full
/// bodies would be gigabytes). The oldest go first; finding one is a scan (an admin lookup, rare).
///
/// ```swift
/// let recent = RecentSpans(capacity: 4096, byteBudget: 32 << 20)
/// recent.add(span)
/// recent.find(span.spanID)
/// ```
final class RecentSpans: @unchecked Sendable {
    private let lock = NSLock()
    private var spans = CircularBuffer<(span: Span, bytes: Int)>()
    private var bytes = 0
    let capacity: Int
    let byteBudget: Int

    init(capacity: Int = 4096, byteBudget: Int = 32 << 20) {
        self.capacity = capacity
        self.byteBudget = byteBudget
    }

    /// What a span holds in memory, near enough: its bodies and strings plus a fixed part.
    static func size(of s: Span) -> Int {
        // Summed field by field: arrays of the fields would be two allocations a call.
        func count(_ t: String?) -> Int { t?.utf8.count ?? 0 }
        var n = 512 + count(s.requestBody) + count(s.responseBody)
        n += count(s.endpoint) + count(s.provider) + count(s.operation) + count(s.method)
        n += count(s.userID) + count(s.sessionID) + count(s.modelRequested) + count(s.model) + count(s.errorType)
        n += count(s.finishReason) + count(s.traceID) + count(s.parentSpanID) + count(s.apiKeyHash)
        for (k, v) in s.properties { n += k.utf8.count + v.utf8.count + 32 }
        return n
    }

    func add(_ span: Span) {
        let size = Self.size(of: span)
        guard size <= byteBudget else { return }
        lock.lock(); defer { lock.unlock() }
        spans.append((span, size))
        bytes += size
        while spans.count > capacity || bytes > byteBudget, let first = spans.popFirst() { bytes -= first.bytes }
    }

    func find(_ id: String) -> Span? {
        lock.lock(); defer { lock.unlock() }
        return spans.last { $0.span.spanID == id }?.span
    }

    /// Spans and bytes held now (for tests and metrics).
    var held: (spans: Int, bytes: Int) {
        lock.lock(); defer { lock.unlock() }
        return (spans.count, bytes)
    }
}
