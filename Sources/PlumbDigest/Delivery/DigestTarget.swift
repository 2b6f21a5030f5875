import CCurl
import Foundation
import PlumbCore

/// Where a digest goes: an SMTP server (text and HTML in one email) or a webhook (a
/// Slack-compatible message, or the JSON digest).
///
/// ```swift
/// let mail = DigestTarget.smtp(SMTPSettings(url: "smtps://mail.example.com", from: "plumb@example.com", to: ["cfo@example.com"]))
/// try DigestDelivery(retries: 3).send(digest, to: mail)
/// ```
public enum DigestTarget: Sendable, Equatable {
    case smtp(SMTPSettings)
    case webhook(url: String, format: WebhookFormat)

    public enum WebhookFormat: String, Sendable, CaseIterable { case slack, json }

    /// A name for messages and the sent log: the URL without credentials, and the recipients.
    public var name: String {
        switch self {
        case .smtp(let s): return Self.redacted(s.url) + " → " + s.to.joined(separator: ", ")
        case .webhook(let url, let f): return Self.redacted(url) + " (\(f.rawValue))"
        }
    }

    /// A URL without its user and password (and a Slack hook's secret path).
    public static func redacted(_ url: String) -> String { URLRedaction.redacted(url) }
}

public struct SMTPSettings: Sendable, Equatable {
    /// `smtp://host[:port]` (STARTTLS: required, except on loopback where it is used if offered)
    /// or `smtps://host[:port]` (TLS from the start).
    public var url: String
    public var from: String
    public var to: [String]
    public var user: String?
    public var password: String?
    /// PEM file of the certificate authorities to trust for the server's TLS certificate (a
    /// company's own CA); nil: the system's.
    public var caFile: String?

    public init(url: String, from: String, to: [String], user: String? = nil, password: String? = nil, caFile: String? = nil) {
        self.url = url; self.from = from; self.to = to; self.user = user; self.password = password; self.caFile = caFile
    }

    /// Problems with the settings themselves (before any connection).
    public func validate() throws {
        guard let c = URLComponents(string: url), ["smtp", "smtps"].contains(c.scheme ?? ""), !(c.host ?? "").isEmpty else {
            throw CurlTransfer.Failure(description: "SMTP URL '\(DigestTarget.redacted(url))' must be smtp://HOST[:PORT] or smtps://HOST[:PORT]")
        }
        guard from.contains("@") else { throw CurlTransfer.Failure(description: "the sender '\(from)' is not an email address") }
        guard !to.isEmpty, to.allSatisfy({ $0.contains("@") }) else {
            throw CurlTransfer.Failure(description: "recipients must be email addresses (got: \(to.joined(separator: ", ")))")
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw CurlTransfer.Failure(description: "the SMTP CA file '\(caFile)' cannot be read")
        }
    }

    var isLoopback: Bool { ["127.0.0.1", "localhost", "::1", "[::1]"].contains(URLComponents(string: url)?.host ?? "") }
}
