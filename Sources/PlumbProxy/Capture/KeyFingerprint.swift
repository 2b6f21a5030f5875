import Foundation
import PlumbCore

/// `api_key_hash`: the first 16 hex digits of HMAC-SHA256(installation secret, key). The key
/// itself never reaches the disk; the secret is random per installation and lives in the data
/// directory with mode 0600, so the fingerprint cannot be reversed or matched across installs.
///
/// ```swift
/// let fp = try KeyFingerprint(dataDirectory: "./plumb-data")
/// fp.hash("sk-...")   // "3fa0c1d29b7e4a55"
/// ```
struct KeyFingerprint: Sendable {
    let secret: [UInt8]
    static let fileName = "installation.secret"

    init(secret: [UInt8]) { self.secret = secret }

    /// Reads the secret, creating it (32 random bytes, hex, mode 0600) on first use.
    init(dataDirectory: String) throws {
        let path = dataDirectory + "/" + Self.fileName
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
           let bytes = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count >= 16 {
            secret = bytes
            return
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var g = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &g) }
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ProxySetupError("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        let text = Array((Hex.encode(bytes) + "\n").utf8)
        let ok = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == text.count && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, path) == 0 else { throw ProxySetupError("cannot write \(path): \(String(cString: strerror(errno)))") }
        secret = bytes
    }

    func hash(_ key: String) -> String {
        String(Hex.encode(SHA256.hmac(key: secret, message: Array(key.utf8))).prefix(16))
    }
}

/// A problem that stops `plumb serve` from starting, with a message for the user.
public struct ProxySetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
