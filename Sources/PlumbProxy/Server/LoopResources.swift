import NIOCore
import NIOSSL

/// What one event loop of the server owns and only that loop touches: its upstream connection
/// pool, the sweeper of its client connections' timeouts, its span-id stream and its key
/// fingerprints. A connection stays on the loop that accepted it, so none of these is locked.
///
/// ```swift
/// let local = LoopResources(loop: loop, tls: tls, fingerprint: fingerprint)
/// local.spanIDs.next(atMicros: Timestamp.nowMicros())
/// ```
final class LoopResources: Sendable {
    let pool: UpstreamPool
    let sweeper: ConnectionSweeper
    let spanIDs: SpanIDSource
    let fingerprints: KeyFingerprintCache

    init(loop: EventLoop, tls: NIOSSLContext, fingerprint: KeyFingerprint) {
        pool = UpstreamPool(eventLoop: loop, tls: tls)
        sweeper = ConnectionSweeper(eventLoop: loop)
        spanIDs = SpanIDSource()
        fingerprints = KeyFingerprintCache(fingerprint)
    }
}
