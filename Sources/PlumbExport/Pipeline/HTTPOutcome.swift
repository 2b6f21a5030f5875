import Foundation
import PlumbCore

extension SendOutcome {
    /// How an HTTP receiver's answer is taken, the same for OTLP and ClickHouse: 2xx accepted;
    /// 408, 429 and 5xx retried (honouring `Retry-After`); so are 3xx, 401, 403, 404 and 407,
    /// which say the endpoint or its credentials are wrong (fixing them must not find the
    /// backlog skipped); other 4xx are a rejection of this batch, with the receiver's words.
    ///
    /// ```swift
    /// SendOutcome.http(status: 429, retryAfter: "2", body: "slow down")   // .retry(after: 2, ...)
    /// ```
    public static func http(status: Int, retryAfter: String?, body: String) -> SendOutcome {
        let said = body.isEmpty ? "" : ": " + Self.excerpt(body)
        switch status {
        case 200..<300: return .accepted
        case 300...399, 401, 403, 404, 407, 408, 429, 500...599:
            return .retry(after: retryAfter.flatMap(Self.retryAfterSeconds), reason: "HTTP \(status)\(said)")
        default: return .rejected(reason: "HTTP \(status)\(said)")
        }
    }

    /// The first 500 bytes of a receiver's answer on one line.
    static func excerpt(_ body: String) -> String {
        let line = body.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return line.utf8.count > 500 ? String(decoding: line.utf8.prefix(500), as: UTF8.self) + "…" : line
    }

    /// `Retry-After` as seconds (RFC 9110: delay-seconds or an HTTP-date), at most an hour.
    static func retryAfterSeconds(_ value: String) -> Double? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let n = Double(v), n.isFinite, n >= 0 { return min(n, 3600) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = f.date(from: v) else { return nil }
        return min(3600, max(0, date.timeIntervalSinceNow))
    }
}
