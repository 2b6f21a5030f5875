/// Sends one batch until the receiver takes it, the batch is skipped after `maxRejections`
/// rejections, or (with `maxRetries`) the receiver stays unavailable too long. The exporter
/// retries an unavailable receiver forever (nothing is lost while it waits); a backfill gives up.
///
/// ```swift
/// let result = Delivery(sink: sink, policy: RetryPolicy(), maxRetries: 8, pause: { Thread.sleep(forTimeInterval: $0); return true },
///                       say: { print($0) }, failed: { _ in }).send(batch)
/// ```
struct Delivery {
    enum Result: Equatable { case accepted, skipped, gaveUp(String), stopped }

    let sink: SpanSink
    let policy: RetryPolicy
    /// Retries of an unavailable receiver before giving up (nil: never give up).
    let maxRetries: Int?
    /// Waits that long; false when the caller is stopping.
    let pause: (Double) -> Bool
    let say: (String) -> Void
    /// Called on each failed send with the reason (for the caller's figures).
    let failed: (String) -> Void

    func send(_ batch: ExportBatch) -> Result {
        var attempt = 0, retries = 0, rejections = 0
        var outage = false
        while true {
            switch sink.send(batch) {
            case .accepted:
                if outage { say("receiver back after \(attempt) failed attempts") }
                return .accepted
            case .retry(let after, let reason):
                if !outage { say("\(batch.label) not delivered: \(reason); retrying") }
                outage = true
                failed(reason)
                retries += 1
                if let maxRetries, retries > maxRetries { return .gaveUp(reason) }
                guard pause(policy.delay(attempt: attempt, retryAfter: after)) else { return .stopped }
            case .rejected(let reason):
                rejections += 1
                if rejections == 1 { say("\(batch.label) rejected: \(reason)") }
                failed(reason)
                if rejections >= policy.maxRejections {
                    say("\(batch.label) skipped after \(rejections) rejections")
                    return .skipped
                }
                guard pause(policy.delay(attempt: attempt, retryAfter: nil)) else { return .stopped }
            }
            attempt += 1
        }
    }
}
