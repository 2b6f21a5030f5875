import Foundation

/// An email with a plain-text and an HTML alternative (RFC 2046 multipart/alternative), each
/// part base64 so no line is too long for SMTP; a non-ASCII subject as an RFC 2047 word.
///
/// ```swift
/// let bytes = MailMessage(from: "plumb@example.com", to: ["cto@example.com"], subject: "Spend", text: t, html: h).bytes()
/// ```
public struct MailMessage {
    var from: String
    var to: [String]
    var subject: String
    var text: String
    var html: String
    var date = Date()

    static func base64Lines(_ s: String) -> String {
        let b = Data(s.utf8).base64EncodedString()
        var out = ""
        var i = b.startIndex
        while i < b.endIndex {
            let j = b.index(i, offsetBy: 76, limitedBy: b.endIndex) ?? b.endIndex
            out += b[i..<j] + "\r\n"
            i = j
        }
        return out
    }

    static func header(_ s: String) -> String {
        s.allSatisfy { $0.isASCII && $0 != "\r" && $0 != "\n" } ? s : "=?UTF-8?B?" + Data(s.utf8).base64EncodedString() + "?="
    }

    func bytes(boundary: String = "plumb-" + UUID().uuidString) -> [UInt8] {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let domain = from.split(separator: "@").last.map(String.init) ?? "plumb.local"
        var m = "From: \(from)\r\nTo: \(to.joined(separator: ", "))\r\nSubject: \(Self.header(subject))\r\n"
        m += "Date: \(f.string(from: date))\r\nMessage-ID: <\(UUID().uuidString.lowercased())@\(domain)>\r\nMIME-Version: 1.0\r\n"
        m += "Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n"
        m += "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Self.base64Lines(text)
        m += "--\(boundary)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Self.base64Lines(html)
        m += "--\(boundary)--\r\n"
        return Array(m.utf8)
    }
}
