import Foundation
import NIOCore
import NIOHTTP1
import PlumbCore
import PlumbQuery
import PlumbStore

/// `POST /_plumb/query`: runs a query of the dialect on the server's data directory and answers
/// with the rows as `plumb query --format json` prints them (`?format=jsonl|csv` for the others).
/// The body is the SQL itself, or JSON `{"sql": "...", "now": "2026-11-21T00:00:00Z"}`.
/// A bad query is a 400 whose error names the problem and its line and column.
///
/// ```
/// curl -s localhost:8787/_plumb/query -d "SELECT model, count(*) FROM spans GROUP BY 1"
/// ```
struct QueryEndpoint {
    let directory: DataDirectory

    func answer(method: HTTPMethod, query: String?, body: [UInt8]) -> AdminReply {
        guard method == .POST || method == .GET else {
            return AdminEndpoints.failure(.methodNotAllowed, "method_not_allowed", "use POST /_plumb/query with the SQL as the body")
        }
        let params = Self.parameters(query)
        var sql = params["sql"] ?? params["q"]
        var nowText = params["now"]
        if sql == nil {
            let text = String(decoding: body, as: UTF8.self)
            if text.first(where: { !$0.isWhitespace }) == "{" {
                guard let json = try? JSONParser.parse(body), case .string(let s)? = json["sql"] else {
                    return AdminEndpoints.failure(.badRequest, "invalid_request", #"a JSON body must be an object with "sql" (a string)"#)
                }
                sql = s
                if case .string(let n)? = json["now"] { nowText = n }
            } else {
                sql = text
            }
        }
        guard let sql, !sql.allSatisfy(\.isWhitespace) else {
            return AdminEndpoints.failure(.badRequest, "invalid_request", "no query: send the SQL as the body, or {\"sql\": \"...\"}")
        }
        let format = ResultFormat(rawValue: params["format"] ?? "json") ?? .json
        guard format != .table else {
            return AdminEndpoints.failure(.badRequest, "invalid_request", "format must be json, jsonl or csv")
        }
        var engine = QueryEngine(directory: directory)
        if let nowText {
            guard let t = try? Timestamp.parse(nowText) else {
                return AdminEndpoints.failure(.badRequest, "invalid_request", "now: not an ISO 8601 time: \(nowText)")
            }
            engine.now = t
        }
        var out = ""
        let writer = format.writer { out += $0 }
        do {
            _ = try engine.run(sql, begin: writer.begin, emit: writer.write)
            writer.end()
        } catch let e as QueryError {
            return AdminReply(status: .badRequest, contentType: "application/json", body: Self.errorJSON(e, sql))
        } catch {
            return AdminEndpoints.failure(.internalServerError, "query_failed", "\(error)")
        }
        let type = format == .csv ? "text/csv; charset=utf-8" : (format == .jsonl ? "application/x-ndjson" : "application/json")
        return AdminReply(status: .ok, contentType: type, body: out)
    }

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
