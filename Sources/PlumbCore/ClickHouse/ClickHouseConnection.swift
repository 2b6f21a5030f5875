import Foundation

/// Where a ClickHouse server is and who Plumb is to it: the `url`, `database` and `user` keys of
/// `[export.clickhouse]` (schemas/config.md), the password from `PLUMB_CLICKHOUSE_PASSWORD`
/// (never from the file, so it stays out of version control).
///
/// ```swift
/// let c = try ClickHouseConnection(url: "http://clickhouse:8123", database: "plumb", user: "plumb", password: secret)
/// ```
public struct ClickHouseConnection: Sendable {
    public var url: String
    public var database: String
    public var user: String
    public var password: String
    public var timeout: Double

    public init(url: String, database: String = "plumb", user: String = "default", password: String = "", timeout: Double = 30) throws {
        var u = url
        while u.hasSuffix("/") { u.removeLast() }
        guard u.hasPrefix("http://") || u.hasPrefix("https://"), u.count > 8, !u.contains(where: \.isWhitespace), !u.contains("?") else {
            throw ClickHouseError(code: nil, message: "url '\(url)' must be http://HOST:PORT or https://HOST:PORT (ClickHouse's HTTP interface)")
        }
        try Self.checkIdentifier(database, what: "database")
        self.url = u; self.database = database; self.user = user; self.password = password; self.timeout = timeout
    }

    /// Database and table names go into SQL text: letters, digits and `_` only.
    public static func checkIdentifier(_ name: String, what: String) throws {
        guard let f = name.utf8.first, f == UInt8(ascii: "_") || (f | 0x20 >= 0x61 && f | 0x20 <= 0x7A),
              name.utf8.count <= 64,
              name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) })
        else { throw ClickHouseError(code: nil, message: "\(what) '\(name)' must be letters, digits and _ (starting with a letter or _)") }
    }
}

/// A ClickHouse exception as its HTTP interface reports it (`Code: 60. DB::Exception: ...`), or
/// a problem reaching it (`code` nil).
public struct ClickHouseError: Error, CustomStringConvertible, Sendable {
    public var code: Int?
    public var message: String
    public var httpStatus: Int?
    /// True when the server never answered (refused, reset, timed out).
    public var transport = false

    public init(code: Int?, message: String, httpStatus: Int? = nil, transport: Bool = false) {
        self.code = code; self.message = message; self.httpStatus = httpStatus; self.transport = transport
    }

    public var description: String { message }
}
