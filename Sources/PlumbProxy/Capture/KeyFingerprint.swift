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

    /// Reads the secret, creating it (32 random bytes, hex, mode 0600) only when there is none:
    /// a secret that cannot be read or is not valid stops the server rather than being replaced,
    /// since a new one would orphan every `api_key_hash` already stored.
    init(dataDirectory: String) throws {
        let path = dataDirectory + "/" + Self.fileName
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd >= 0 {
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = read(fd, &buffer, buffer.count)
            guard n >= 0 else { throw ProxySetupError("cannot read \(path): \(String(cString: strerror(errno))); it holds the key fingerprints' secret (move it aside to start afresh, which orphans every api_key_hash)") }
            let text = String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = Hex.decode(text), bytes.count >= 16 else {
                throw ProxySetupError("\(path) is not a valid secret (expected at least 32 hex digits); it holds the key fingerprints' secret (move it aside to start afresh, which orphans every api_key_hash)")
            }
            secret = bytes
            return
        }
        guard errno == ENOENT else {
            throw ProxySetupError("cannot open \(path): \(String(cString: strerror(errno))) (it must be a regular file)")
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var g = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &g) }
        // A temporary file left by a crash, or planted (a symlink elsewhere), is removed, never
        // followed: unlink takes the link itself, and O_EXCL | O_NOFOLLOW make only a new file.
        let tmp = path + ".tmp"
        guard unlink(tmp) == 0 || errno == ENOENT else { throw ProxySetupError("cannot remove \(tmp): \(String(cString: strerror(errno)))") }
        let out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw ProxySetupError("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        let text = Array((Hex.encode(bytes) + "\n").utf8)
        let ok = text.withUnsafeBytes { write(out, $0.baseAddress, $0.count) } == text.count && fsync(out) == 0
        close(out)
        guard ok, rename(tmp, path) == 0 else { throw ProxySetupError("cannot write \(path): \(String(cString: strerror(errno)))") }
        // The rename is durable only once the directory is synced.
        let dir = open(dataDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
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
