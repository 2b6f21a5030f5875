import Foundation
import NIOCore
import NIOHTTP1
import PlumbCore
import PlumbQuery
import PlumbStore

/// `POST /_plumb/query`: runs a query of the dialect on the server's data directory and answers
/// with the rows as `plumb query --format json` prints them (`?format=jsonl|csv` for the others).
/// The body is the SQL itself (`Content-Type: application/sql`), or JSON
/// `{"sql": "...", "now": "2026-11-21T00:00:00Z"}` (`application/json`). A bad query is a 400
/// whose error names the problem and its line and column; a query past `query_timeout` is a 503
/// `query_timeout`, a result over `query_max_result_bytes` a 507 `result_too_large` (or, once
/// the first 64 KiB of a large result have been sent in chunks, a response cut short: no final
/// chunk, so that no client takes it for the whole result).
///
/// ```
/// curl -s localhost:8787/_plumb/query -H 'Content-Type: application/sql' -d "SELECT model, count(*) FROM spans GROUP BY 1"
/// ```
struct QueryEndpoint: Sendable {
    let directory: DataDirectory
    /// `query_timeout` and `query_max_result_bytes`.
    var timeoutSeconds: Double = 30
    var maxResultBytes = 64 << 20
    /// Longer SQL is refused before it is parsed.
    static let maxSQLBytes = 1 << 20

    /// Queries read every stored prompt: only a POST a browser cannot send from another site
    /// without asking first (a JSON or SQL body; a form, `text/plain` or a GET it sends freely).
    func refusal(method: HTTPMethod, contentType: String?) -> AdminReply? {
        guard method == .POST else {
            return AdminEndpoints.failure(.methodNotAllowed, "method_not_allowed",
                                          "use POST /_plumb/query with the SQL as the body (Content-Type: application/sql) or {\"sql\": \"...\"} (application/json)")
        }
        let type = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard type == "application/sql" || type == "application/json" else {
            return AdminEndpoints.failure(.unsupportedMediaType, "unsupported_media_type",
                                          "send the SQL with Content-Type: application/sql, or {\"sql\": \"...\"} with Content-Type: application/json (got \(type.isEmpty ? "none" : "'\(ProxyFailure.shown(type))'"))")
        }
        return nil
    }

    /// Where a result goes as it is produced: `send` gets pieces of about `pieceBytes` (the
    /// first one starts the response, with this content type), and may wait while the client is
    /// slow to read; the last piece and the end come from the caller once the query is done.
    struct Output {
        var send: (_ piece: [UInt8], _ contentType: String) throws -> Void
        var pieceBytes = 64 << 10
    }

    /// What came of a query: an answer to send whole (an error, or a result small enough that it
    /// never filled a piece), or the rest of a result whose first pieces already went out.
    enum Outcome: Sendable {
        case reply(AdminReply)
        case streamed(rest: [UInt8])
        /// The query failed after its first pieces went out: the response can only be cut short.
        case cut(reason: String)
    }

    /// Runs the query in the body; pieces of a large result go to `output` as they are made, so
    /// that memory holds a piece, not the result.
    func answer(query: String?, body: [UInt8], output: Output? = nil) -> Outcome {
        let params = Self.parameters(query)
        var nowText = params["now"]
        guard body.count <= Self.maxSQLBytes else {
            return .reply(AdminEndpoints.failure(.payloadTooLarge, "invalid_request", "a query is at most \(Self.maxSQLBytes) bytes"))
        }
        let sql: String
        if body.first(where: { $0 > 0x20 }) == UInt8(ascii: "{") {
            guard let json = try? JSONParser.parse(body), case .string(let s)? = json["sql"] else {
                return .reply(AdminEndpoints.failure(.badRequest, "invalid_request", #"a JSON body must be an object with "sql" (a string)"#))
            }
            sql = s
            if case .string(let n)? = json["now"] { nowText = n }
        } else {
            sql = String(decoding: body, as: UTF8.self)
        }
        guard !sql.allSatisfy(\.isWhitespace) else {
            return .reply(AdminEndpoints.failure(.badRequest, "invalid_request", "no query: send the SQL as the body, or {\"sql\": \"...\"}"))
        }
        let format = ResultFormat(rawValue: params["format"] ?? "json") ?? .json
        guard format != .table else {
            return .reply(AdminEndpoints.failure(.badRequest, "invalid_request", "format must be json, jsonl or csv"))
        }
        var engine = QueryEngine(directory: directory)
        let deadline = QueryDeadline(seconds: timeoutSeconds)
        engine.deadline = deadline
        if let nowText {
            guard let t = try? Timestamp.parse(nowText) else {
                return .reply(AdminEndpoints.failure(.badRequest, "invalid_request", "now: not an ISO 8601 time: \(ProxyFailure.shown(nowText))"))
            }
            engine.now = t
        }
        let type = format == .csv ? "text/csv; charset=utf-8" : (format == .jsonl ? "application/x-ndjson" : "application/json")
        var piece: [UInt8] = []
        var total = 0, streamed = false
        var failure: Error?
        let cap = maxResultBytes
        let writer = format.writer { text in
            guard failure == nil else { return }
            piece.append(contentsOf: text.utf8)
            total += text.utf8.count
            if total > cap { failure = ResultTooLarge(); return }
            guard let output, piece.count >= output.pieceBytes else { return }
            // A batch's text can be megabytes: it goes out a piece at a time, each sent only
            // when the client has taken the one before.
            do {
                var start = 0
                while start < piece.count {
                    let end = min(piece.count, start + output.pieceBytes)
                    try output.send(Array(piece[start..<end]), type)
                    start = end
                }
                streamed = true
                piece.removeAll(keepingCapacity: true)
            } catch { failure = error }
        }
        do {
            _ = try engine.run(sql, begin: writer.begin, emit: { batch in
                try deadline.check()
                writer.write(batch)
                if let failure { throw failure }
            })
            writer.end()
            if let failure { throw failure }
        } catch {
            let reply: AdminReply
            switch error {
            case let e as QueryError:
                reply = AdminReply(status: .badRequest, contentType: "application/json", body: Self.errorJSON(e, sql))
            case let e as QueryDeadline.Exceeded:
                reply = AdminEndpoints.failure(.serviceUnavailable, "query_timeout", e.description)
            case is ResultTooLarge:
                reply = AdminEndpoints.failure(.insufficientStorage, "result_too_large",
                                               "the result is over \(cap) bytes (query_max_result_bytes): add a LIMIT, select fewer columns, or use plumb query")
            default:
                reply = AdminEndpoints.failure(.internalServerError, "query_failed", "\(error)")
            }
            return streamed ? .cut(reason: reply.body) : .reply(reply)
        }
        return streamed ? .streamed(rest: piece) : .reply(AdminReply(status: .ok, contentType: type, body: String(decoding: piece, as: UTF8.self)))
    }

    struct ResultTooLarge: Error {}

    /// `{"error": {"type": "query_error", "message", "line", "column", "hint", "detail"}}`.
    static func errorJSON(_ e: QueryError, _ sql: String) -> String {
        var fields = [#""type":"query_error""#, #""message":"# + ValueText.jsonString(e.message)]
        if let o = e.offset {
            let (line, column, _) = QueryError.lineColumn(of: o, in: sql)
            fields += [#""line":\#(line)"#, #""column":\#(column)"#]
        }
        if let h = e.hint { fields.append(#""hint":"# + ValueText.jsonString(h)) }
        fields.append(#""detail":"# + ValueText.jsonString(e.render(sql)))
        return #"{"error":{"# + fields.joined(separator: ",") + "}}\n"
    }

    /// `a=b&c=d`, percent-decoded (`+` as space).
    static func parameters(_ query: String?) -> [String: String] {
        guard let query else { return [:] }
        var out: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if kv.count == 2 { out[kv[0]] = kv[1] }
        }
        return out
    }
}
