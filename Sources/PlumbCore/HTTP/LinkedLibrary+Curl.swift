import CCurl
import PlumbCore

extension LinkedLibrary {
    /// Digest delivery over SMTP and webhooks.
    public static var curl: LinkedLibrary {
        LinkedLibrary(name: "libcurl", version: plumb_curl_version_info().flatMap { $0.pointee.version.map { String(cString: $0) } } ?? "?")
    }
}
