import Foundation

/// A URL fit for a message or a log line: without user and password, query and fragment (an
/// `?api_key=` or a Slack hook's secret path would otherwise reach stderr and `/_plumb/health`).
///
/// ```swift
/// URLRedaction.redacted("http://u:secret@collector:4318/v1/traces?api_key=x")   // "http://collector:4318/v1/traces"
/// ```
public enum URLRedaction {
    public static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return "(unparseable URL)" }
        c.user = nil; c.password = nil; c.query = nil; c.fragment = nil
        if c.host == "hooks.slack.com" { c.path = "/services/redacted" }
        return c.string ?? "(URL)"
    }
}
