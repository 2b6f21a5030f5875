import CCurl
import Foundation

/// A small HTTP client on one libcurl easy handle, for exporters and fleet queries: requests go
/// one at a time, and the connection is kept alive between them (libcurl keeps it across resets).
/// Only http and https; answers are read up to `maxResponseBytes` (the rest is dropped), headers
/// up to 100 lines. Not for the proxy path, which never waits on it.
///
/// ```swift
/// let client = HTTPClient(timeout: 10)
/// let r = try client.send(.post, "http://collector:4318/v1/traces", headers: ["Content-Type: application/x-protobuf"], body: bytes)
/// r.status            // 200
/// r.header("retry-after")
/// ```
public final class HTTPClient: @unchecked Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    public struct Response: Sendable {
        public var status: Int
        /// Header lines of the final answer, names lowercased.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        /// True when the body was longer than `maxResponseBytes` and cut.
        public var truncated: Bool

        public func header(_ name: String) -> String? {
            let n = name.lowercased()
            return headers.last(where: { $0.name == n })?.value
        }

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// The request never got an HTTP answer (refused, reset, timed out, bad URL).
    public struct TransportError: Error, CustomStringConvertible {
        public var description: String
    }

    public var timeout: Double
    public var connectTimeout: Double
    public var maxResponseBytes: Int
    private let handle: UnsafeMutableRawPointer
    private let lock = NSLock()
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    // Filled by the callbacks during one `send`.
    private var received: [UInt8] = []
    private var headerLines: [String] = []
    private var truncated = false

    public init(timeout: Double = 30, connectTimeout: Double = 10, maxResponseBytes: Int = 4 << 20) {
        precondition(CurlTransfer.initialised, "libcurl could not start")
        handle = curl_easy_init()!
        self.timeout = timeout; self.connectTimeout = connectTimeout; self.maxResponseBytes = maxResponseBytes
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Sends one request and returns the answer, whatever its status.
    public func send(_ method: Method, _ url: String, headers: [String] = [], body: [UInt8] = []) throws -> Response {
        lock.lock(); defer { lock.unlock() }
        curl_easy_reset(handle)          // options go; the connection cache stays
        received = []; headerLines = []; truncated = false
        errorBuffer[0] = 0
        _ = url.withCString { plumb_curl_setopt_string(handle, CURLOPT_URL, $0) }
        // CURLPROTO_HTTP | CURLPROTO_HTTPS: never file://, gopher:// or a redirect to them.
        _ = plumb_curl_setopt_long(handle, CURLOPT_PROTOCOLS, 1 | 2)
        _ = plumb_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = plumb_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = plumb_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        _ = plumb_curl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        _ = plumb_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = plumb_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
        _ = plumb_curl_setopt_write(handle) { data, size, count, context in
            let c = Unmanaged<HTTPClient>.fromOpaque(context!).takeUnretainedValue()
            let n = size * count
            let room = max(0, c.maxResponseBytes - c.received.count)
            if n > room { c.truncated = true }
            if room > 0, let data { c.received += UnsafeRawBufferPointer(start: data, count: min(n, room)) }
            return n
        }
        _ = plumb_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, me)
        _ = plumb_curl_setopt_header(handle) { data, size, count, context in
            let c = Unmanaged<HTTPClient>.fromOpaque(context!).takeUnretainedValue()
            let n = size * count
            guard let data else { return n }
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: min(n, 8192)), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            // A new status line (after 100 Continue or a redirect) starts the headers afresh.
            if line.hasPrefix("HTTP/") { c.headerLines = [] }
            if !line.isEmpty && c.headerLines.count < 100 { c.headerLines.append(line) }
            return n
        }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        // libcurl would send "Expect: 100-continue" for large bodies and wait for it.
        for h in headers + ["Expect:"] { list = curl_slist_append(list, h) }
        defer { curl_slist_free_all(list) }
        _ = plumb_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        let code: CURLcode = body.withUnsafeBytes { raw in
            if method == .post {
                _ = plumb_curl_setopt_long(handle, CURLOPT_POST, 1)
                _ = plumb_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, raw.count)
                _ = plumb_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(errorBuffer)))
            }
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
            throw TransportError(description: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        var status = 0
        _ = plumb_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var parsed: [(name: String, value: String)] = []
        for line in headerLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            parsed.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return Response(status: status, headers: parsed, body: received, truncated: truncated)
    }
}
