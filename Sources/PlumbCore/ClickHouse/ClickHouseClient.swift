import Foundation

/// ClickHouse's HTTP interface, as Plumb uses it: the query in the `query` parameter, data (an
/// insert's rows) in the body, credentials in `X-ClickHouse-User`/`-Key`, settings as
/// parameters. Errors come back as `ClickHouseError` with the server's code and words.
///
/// ```swift
/// let ch = ClickHouseClient(ClickHouseConnection(url: "http://127.0.0.1:8123"))
/// let tsv = try ch.query("SELECT version()")                       // the answer's bytes
/// try ch.query("INSERT INTO plumb.spans FORMAT RowBinary", data: rows, settings: ["insert_deduplication_token": token])
/// ```
public final class ClickHouseClient: @unchecked Sendable {
    public let connection: ClickHouseConnection
    private let http: HTTPClient

    public init(_ connection: ClickHouseConnection, maxResponseBytes: Int = 64 << 20) {
        self.connection = connection
        http = HTTPClient(timeout: connection.timeout, connectTimeout: min(connection.timeout, 5), maxResponseBytes: maxResponseBytes)
    }

    /// Runs `sql`; `data` goes in the body after it (an insert's rows, gzipped when `gzip`).
    /// Returns the answer's body.
    @discardableResult
    public func query(_ sql: String, data: [UInt8]? = nil, gzip: Bool = false, settings: [(String, String)] = []) throws -> [UInt8] {
        // Every name Plumb sends is qualified with the database, which may not exist yet.
        var params = settings
        var body: [UInt8]
        if let data {
            params.insert(("query", sql), at: 0)
            body = data
        } else {
            body = Array(sql.utf8)
        }
        var headers = ["X-ClickHouse-User: \(connection.user)", "Content-Type: application/octet-stream"]
        if !connection.password.isEmpty { headers.append("X-ClickHouse-Key: \(connection.password)") }
        if gzip {
            body = try Gzip.compress(body)
            headers.append("Content-Encoding: gzip")
        }
        let url = connection.url + "/?" + params.map { "\($0.0)=\(Self.percentEncoded($0.1))" }.joined(separator: "&")
        let r: HTTPClient.Response
        do { r = try http.send(.post, url, headers: headers, body: body) } catch {
            throw ClickHouseError(code: nil, message: "ClickHouse at \(URLRedaction.redacted(connection.url)): \(error)", transport: true)
        }
        guard r.status == 200 else {
            let code = r.header("x-clickhouse-exception-code").flatMap { Int($0) } ?? Self.code(in: r.text)
            var text = r.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.utf8.count > 1000 { text = String(decoding: text.utf8.prefix(1000), as: UTF8.self) + "…" }
            throw ClickHouseError(code: code, message: "ClickHouse answered HTTP \(r.status): \(text.isEmpty ? "(no message)" : text)", httpStatus: r.status)
        }
        // An insert's error after the answer started comes at its end (the status was already 200).
        if data != nil, let tail = Self.lateException(r.body) { throw ClickHouseError(code: Self.code(in: tail), message: "ClickHouse: \(tail)") }
        return r.body
    }

    /// `Code: 60. DB::Exception: ...` → 60.
    static func code(in text: String) -> Int? {
        guard let r = text.range(of: "Code: ") else { return nil }
        return Int(text[r.upperBound...].prefix { $0.isNumber })
    }

    static func lateException(_ body: [UInt8]) -> String? {
        guard body.count > 20 else { return nil }
        let tail = String(decoding: body.suffix(2048), as: UTF8.self)
        guard let r = tail.range(of: "Code: ", options: .backwards), tail[r.upperBound...].contains("DB::Exception") else { return nil }
        return String(tail[r.lowerBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// RFC 3986 unreserved characters kept, everything else percent-encoded.
    public static func percentEncoded(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        let hex = Array("0123456789ABCDEF")
        for b in s.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(b)))
            default:
                out.append("%"); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
            }
        }
        return out
    }
}
