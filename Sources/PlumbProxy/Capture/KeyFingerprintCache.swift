/// One event loop's fingerprints of the keys it saw lately, used only on that loop. A new
/// connection's first call would otherwise make an HMAC, and OpenSSL 3's one-shot `HMAC()`
/// looks the digest up in its provider tables each time (tens of microseconds on a cold path,
/// on every new connection's time to first byte).
///
/// ```swift
/// let cache = KeyFingerprintCache(fingerprint)
/// cache.hash("sk-...")   // the same as fingerprint.hash("sk-..."), once per key per loop
/// ```
final class KeyFingerprintCache: @unchecked Sendable {   // confined to its event loop
    /// Keys held at most; past it the cache starts afresh (a bound on what a stream of forged
    /// keys can make it hold, at no cost to the few keys a deployment really has).
    static let capacity = 256
    private let fingerprint: KeyFingerprint
    private var hashes: [String: String] = [:]

    init(_ fingerprint: KeyFingerprint) { self.fingerprint = fingerprint }

    func hash(_ key: String) -> String {
        if let known = hashes[key] { return known }
        let hash = fingerprint.hash(key)
        if hashes.count >= Self.capacity { hashes.removeAll(keepingCapacity: true) }
        hashes[key] = hash
        return hash
    }

    var count: Int { hashes.count }
}
