import CCurl
import Foundation

/// One libcurl easy transfer: an upload body (SMTP DATA, an HTTP POST), the response body, and
/// the server's own words when it fails (the last response line it sent), for errors that say
/// what the server answered. Credentials are set as options and never appear in messages.
public final class CurlTransfer {
    public let handle: UnsafeMutableRawPointer
    public var upload: [UInt8] = []
    var uploaded = 0
    public var received: [UInt8] = []
    /// Lines the server sent (SMTP replies, HTTP status and headers), newest last.
    public var serverLines: [String] = []
    var lists: [UnsafeMutablePointer<curl_slist>] = []
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    static let initialised: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    public init() throws {
        guard Self.initialised, let h = curl_easy_init() else { throw Failure(description: "libcurl could not start") }
        handle = h
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        for l in lists { curl_slist_free_all(l) }
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    public func set(_ o: CURLoption, _ v: Int) { _ = plumb_curl_setopt_long(handle, o, v) }
    public func set(_ o: CURLoption, _ v: String) { _ = v.withCString { plumb_curl_setopt_string(handle, o, $0) } }   // libcurl copies strings
    public func set(_ o: CURLoption, list: [String]) {
        var l: UnsafeMutablePointer<curl_slist>? = nil
        for s in list { l = curl_slist_append(l, s) }
        if let l { lists.append(l); _ = plumb_curl_setopt_slist(handle, o, l) }
    }

    /// Runs the transfer; on failure, an error naming what failed and what the server said.
    public func perform(what: String) throws {
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = plumb_curl_setopt_pointer(handle, CURLOPT_READDATA, me)
        _ = plumb_curl_setopt_read(handle) { buffer, size, count, context in
            let t = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            let n = min(size * count, t.upload.count - t.uploaded)
            t.upload.withUnsafeBytes { src in
                if n > 0 { memcpy(buffer!, src.baseAddress! + t.uploaded, n) }
            }
            t.uploaded += n
            return n
        }
        _ = plumb_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
        _ = plumb_curl_setopt_write(handle) { data, size, count, context in
            let t = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            t.received += UnsafeRawBufferPointer(start: data, count: size * count)
            return size * count
        }
        // Server lines come through the debug callback (incoming headers only: no credentials).
        set(CURLOPT_VERBOSE, 1)
        _ = plumb_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, me)
        _ = plumb_curl_setopt_debug(handle) { _, kind, data, size, context in
            guard kind == CURLINFO_HEADER_IN, let data else { return 0 }
            let t = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if !line.isEmpty { t.serverLines.append(line); if t.serverLines.count > 50 { t.serverLines.removeFirst() } }
            return 0
        }
        _ = plumb_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        set(CURLOPT_NOSIGNAL, 1)
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
            var message = "\(what) failed: " + (detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
            if let last = serverLines.last(where: { $0.first?.isNumber == true || $0.hasPrefix("HTTP/") }) {
                message += "; the server said: \(last)"
            }
            throw Failure(description: message)
        }
    }

    public var responseCode: Int {
        var c = 0
        _ = plumb_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &c)
        return c
    }
}
