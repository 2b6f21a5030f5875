import Foundation
import PlumbCore
import PlumbDigest

/// Delivers one alert message to one target, once (the service retries from the outbox).
///
/// ```swift
/// try AlertSender(timeout: 10).send(event, to: .slack(url))
/// ```
public struct AlertSender: Sendable {
    /// Seconds a connection may take (a whole transfer twice that).
    public var timeout = 10

    public init(timeout: Int = 10) { self.timeout = timeout }

    public func send(_ e: AlertEvent, to target: AlertTarget) throws {
        switch target {
        case .webhook(let url):
            try DigestDelivery.post(url, name: target.name, body: Array(e.json.utf8), userAgent: "plumb-alerts", timeout: timeout)
        case .slack(let url):
            try DigestDelivery.post(url, name: target.name, body: Array(e.slack.utf8), userAgent: "plumb-alerts", timeout: timeout)
        case .email(let smtp):
            let html = "<pre>" + e.text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;") + "</pre>"
            try DigestDelivery.mail(smtp, subject: e.headline, text: e.text, html: html, timeout: timeout)
        }
    }

    /// The wait before attempt `n + 1` after `n` failed: 5 s, 10 s, 20 s, … up to an hour;
    /// nil after `maxAttempts` (the message is given up, and says so in `plumb alerts`).
    public static func retryDelay(afterAttempts n: Int64) -> Double? {
        guard n < maxAttempts else { return nil }
        return min(3600, 5 * pow(2, Double(max(0, n - 1))))
    }

    public static let maxAttempts: Int64 = 16
}
