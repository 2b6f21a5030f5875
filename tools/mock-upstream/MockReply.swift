import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import PlumbCore

/// A response the mock will send: the head, and the body as pieces (one piece for a whole JSON
/// body, one per event for a stream). The SHA-256 of the whole body goes out in
/// `X-Mock-Body-Sha256`, so a test can check that its client received exactly these bytes.
struct MockReply {
    var status: HTTPResponse.Status = .ok
    var contentType = "application/json"
    var pieces: [[UInt8]]
    var extraHeaders: [(String, String)] = []

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> MockReply {
        var w = JSONWriter(); w.value(value)
        return MockReply(status: status, pieces: [w.bytes])
    }

    static func sse(_ events: [[UInt8]]) -> MockReply {
        MockReply(contentType: "text/event-stream", pieces: events)
    }

    /// `data: <json>\n\n`, with an `event:` line when named; Gemini's streams use CRLF.
    static func event(_ value: JSONValue?, name: String? = nil, raw: String? = nil, crlf: Bool = false) -> [UInt8] {
        let nl = crlf ? "\r\n" : "\n"
        var s = name.map { "event: \($0)\(nl)" } ?? ""
        if let value { var w = JSONWriter(); w.value(value); s += "data: " + String(decoding: w.bytes, as: UTF8.self) + nl + nl }
        else { s += "data: \(raw ?? "")\(nl)\(nl)" }
        return Array(s.utf8)
    }

    /// An error in the provider's shape (OpenAI's by default).
    static func error(_ status: HTTPResponse.Status, _ message: String, anthropic: Bool = false) -> MockReply {
        let body: JSONValue = anthropic
            ? .object(["type": .string("error"), "error": .object(["type": .string(status == .tooManyRequests ? "rate_limit_error" : "api_error"), "message": .string(message)])])
            : .object(["error": .object(["message": .string(message), "type": .string(status == .tooManyRequests ? "rate_limit_exceeded" : "server_error"), "param": .null, "code": .null])])
        var r = json(body, status: status)
        if status == .tooManyRequests { r.extraHeaders.append(("Retry-After", "1")) }
        return r
    }

    /// Sends the reply, applying latency, pacing and faults.
    func response(_ c: MockControls) -> Response {
        var whole: [UInt8] = []
        for p in pieces { whole += p }
        var pieces = self.pieces
        let fault = c.fault
        if fault == "malformed" {
            // Cut the JSON (or one event's JSON) in the middle: what a broken upstream sends.
            if pieces.count == 1 { pieces[0] = Array(pieces[0].prefix(max(1, pieces[0].count / 2))) }
            else { let i = pieces.count / 2; pieces[i] = Array("data: {\"id\": \"broken\", \"choices\": [\n\n".utf8) }
            whole = pieces.flatMap { $0 }
        } else if fault == "broken-sse" {
            let keep = max(1, pieces.count / 2)
            pieces = Array(pieces.prefix(keep)) + [Array(pieces[keep < pieces.count ? keep : keep - 1].prefix(12))]
            whole = pieces.flatMap { $0 }
        } else if fault == "drip" {
            pieces = whole.map { [$0] }
        } else if fault == "reset" && pieces.count == 1 {
            pieces = [Array(whole.prefix(whole.count / 2)), Array(whole.dropFirst(whole.count / 2))]
        }
        var headers: HTTPFields = [.contentType: contentType]
        headers[HTTPField.Name("X-Mock-Body-Sha256")!] = SHA256.hex(whole)
        for (n, v) in extraHeaders { headers[HTTPField.Name(n)!] = v }
        let delay = fault == "drip" ? max(c.chunkDelayMs, 2) : c.chunkDelayMs
        let reset = fault == "reset"
        let length = contentType == "application/json" && !reset && fault != "drip" ? whole.count : nil
        let send = pieces
        let body = ResponseBody(contentLength: length) { writer in
            let pieces = send
            let cut = reset ? max(1, pieces.count / 2) : pieces.count
            for (i, p) in pieces.enumerated() {
                if i == cut {
                    // Reset: stop mid-body and drop the connection.
                    throw MockReset()
                }
                if delay > 0 && i > 0 { try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000) }
                try await writer.write(ByteBuffer(bytes: p))
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }
}

struct MockReset: Error {}

/// A request as the cloud mocks read it (Bedrock, Vertex): the path (after the cloud's
/// prefix, unless the mock says otherwise), the fields, the body as bytes and as JSON, and the
/// per-request controls.
struct MockRequest {
    let path: String
    let query: String
    let headers: HTTPFields
    /// The Host header (HTTPTypes keeps it apart from the fields, as `authority`).
    let authority: String?
    let method: String
    let body: [UInt8]
    let json: [String: JSONValue]
    let controls: MockControls
    let serial: Int
    let cache: PromptCache
}
