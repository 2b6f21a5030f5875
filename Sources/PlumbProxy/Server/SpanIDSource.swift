import PlumbCore

/// One event loop's stream of span ids (`SpanID.Generator`, seeded once from the system), used
/// only on that loop.
///
/// ```swift
/// let id = core.spanIDs(for: context.eventLoop).next(atMicros: Timestamp.nowMicros())
/// ```
final class SpanIDSource: @unchecked Sendable {   // confined to its event loop
    private var generator = SpanID.Generator()

    func next(atMicros micros: Int64) -> String { generator.next(atMicros: micros) }
}
