import CCurl
import Foundation
import PlumbCore

/// Sends a digest to a target through libcurl, retrying a failed attempt after 1×, 2×, 4×, …
/// `retryDelay`; after the last one, the error says what failed, with the server's answer.
///
/// ```swift
/// try DigestDelivery(retries: 3, retryDelay: 2).send(digest, to: target)
/// ```
public struct DigestDelivery: Sendable {
    public var retries: Int
    public var retryDelay: Double
    /// Seconds a connection and a whole transfer may take.
    public var timeout = 60

    public init(retries: Int = 3, retryDelay: Double = 2) {
        self.retries = retries; self.retryDelay = retryDelay
    }

    public struct Failed: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Tries up to 1 + `retries` times; `log` hears about each failed attempt.
    public func send(_ d: Digest, to target: DigestTarget, log: (String) -> Void = { _ in }) throws {
        var attempt = 0
        while true {
            attempt += 1
            do { return try sendOnce(d, to: target) } catch {
                guard attempt <= retries else {
                    throw Failed(description: "delivery to \(target.name) failed after \(attempt) attempt\(attempt == 1 ? "" : "s"): \(error)")
                }
                let wait = retryDelay * Double(1 << (attempt - 1))
                log("delivery to \(target.name): attempt \(attempt) failed (\(error)); retrying in \(wait) s")
                Thread.sleep(forTimeInterval: wait)
            }
        }
    }

    func sendOnce(_ d: Digest, to target: DigestTarget) throws {
        switch target {
        case .smtp(let s):
            try Self.mail(s, subject: Self.subject(d), text: DigestFormat.text.render(d), html: DigestFormat.html.render(d), timeout: timeout)
        case .webhook(let url, let format):
            try Self.post(url, name: target.name, body: Array((format == .slack ? SlackMessage.render(d) : DigestJSON.render(d)).utf8),
                          userAgent: "plumb-digest", timeout: timeout)
        }
    }

    /// One mail through libcurl's SMTP (TLS required beyond loopback), text and HTML parts.
    public static func mail(_ s: SMTPSettings, subject: String, text: String, html: String, timeout: Int) throws {
        try s.validate()
        let t = try CurlTransfer()
        t.set(CURLOPT_CONNECTTIMEOUT, timeout)
        t.set(CURLOPT_TIMEOUT, timeout * 2)
        t.set(CURLOPT_URL, s.url)
        t.set(CURLOPT_USE_SSL, s.url.hasPrefix("smtps:") || !s.isLoopback ? Int(CURLUSESSL_ALL.rawValue) : Int(CURLUSESSL_TRY.rawValue))
        if let ca = s.caFile { t.set(CURLOPT_CAINFO, ca) }
        if let u = s.user { t.set(CURLOPT_USERNAME, u) }
        if let p = s.password { t.set(CURLOPT_PASSWORD, p) }
        t.set(CURLOPT_MAIL_FROM, "<\(s.from)>")
        t.set(CURLOPT_MAIL_RCPT, list: s.to.map { "<\($0)>" })
        t.set(CURLOPT_UPLOAD, 1)
        t.upload = MailMessage(from: s.from, to: s.to, subject: subject, text: text, html: html).bytes()
        try t.perform(what: "SMTP to \(DigestTarget.smtp(s).name)")
    }

    /// A JSON POST; anything but a 2xx answer is an error quoting the start of the answer.
    public static func post(_ url: String, name: String, body: [UInt8], userAgent: String, timeout: Int) throws {
        let t = try CurlTransfer()
        t.set(CURLOPT_CONNECTTIMEOUT, timeout)
        t.set(CURLOPT_TIMEOUT, timeout * 2)
        t.set(CURLOPT_URL, url)
        t.set(CURLOPT_POST, 1)
        t.set(CURLOPT_HTTPHEADER, list: ["Content-Type: application/json", "User-Agent: \(userAgent)"])
        t.upload = body
        t.set(CURLOPT_POSTFIELDSIZE, t.upload.count)
        try t.perform(what: "webhook \(name)")
        let code = t.responseCode
        guard (200..<300).contains(code) else {
            let answer = String(decoding: t.received.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw CurlTransfer.Failure(description: "webhook \(name) answered HTTP \(code)" + (answer.isEmpty ? "" : ": \(answer)"))
        }
    }

    public static func subject(_ d: Digest) -> String {
        "Plumb spend digest \(d.period.label): \(DigestDocument.money(d.spend))"
            + (d.isEmpty ? " (no requests)" : ", \(DigestDocument.change(d.spend, d.previousSpend, "previous"))")
    }
}
