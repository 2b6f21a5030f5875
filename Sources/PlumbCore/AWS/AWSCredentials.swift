import Foundation

/// An AWS access key, from the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`) or a named profile of the shared credentials file
/// (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`); never the file's `[default]`
/// unasked, so that declaring a Bedrock provider does not lend the machine's own AWS identity.
/// Read once at start and held in memory only: never logged or written. Values with control
/// characters are refused (they become request header fields).
///
/// ```swift
/// let creds = try AWSCredentials.load(profile: nil, environment: ProcessInfo.processInfo.environment)
/// ```
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID; self.secretAccessKey = secretAccessKey; self.sessionToken = sessionToken
    }

    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// `profile` names a section of the credentials file; without one, the environment's key.
    public static func load(profile: String?, environment: [String: String]) throws -> AWSCredentials {
        guard let name = profile else {
            guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty else {
                throw Missing(description: "no AWS credentials: AWS_ACCESS_KEY_ID is not set, and no aws_profile is named")
            }
            guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
                throw Missing(description: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
            }
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return try AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token).checked("the environment")
        }
        let path = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.aws/credentials")
        let data: [UInt8]
        do { data = try BoundedFile.read(path, limit: 1 << 20) } catch {
            throw Missing(description: "AWS credentials for profile [\(name)]: \(error)")
        }
        return try fromProfile(String(decoding: data, as: UTF8.self), name: name, path: path)
    }

    /// Profile `name` of a credentials file's text (`path` names it in errors).
    static func fromProfile(_ text: String, name: String, path: String) throws -> AWSCredentials {
        let section = try parseProfile(text, name: name, path: path)
        guard let id = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] else {
            throw Missing(description: "\(path): profile [\(name)] needs aws_access_key_id and aws_secret_access_key")
        }
        return try AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: section["aws_session_token"]).checked("\(path) [\(name)]")
    }

    /// Visible ASCII only: the key id and token go into header fields as they are.
    func checked(_ source: String) throws -> AWSCredentials {
        for (what, v) in [("access key id", accessKeyID), ("secret access key", secretAccessKey), ("session token", sessionToken ?? "")]
        where v.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) || v.utf8.count > 4096 {
            throw Missing(description: "\(source): the \(what) has a space, control or non-ASCII character, or is over 4 KiB")
        }
        return self
    }

    /// The `key = value` lines of one `[name]` section of an INI-style credentials file.
    static func parseProfile(_ text: String, name: String, path: String) throws -> [String: String] {
        var current: String?
        var out: [String: String] = [:]
        var found = false
        // Lines end in LF or CRLF (a Character of its own in Swift: split on any newline).
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if current == name { found = true }
                continue
            }
            guard current == name, let eq = line.firstIndex(of: "=") else { continue }
            out[line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard found else { throw Missing(description: "\(path) has no profile [\(name)]") }
        return out
    }
}
