/// Plumb keys (virtual keys): what a client sends instead of a provider key. A key is
/// `sk-plumb-` and 40 random base-62 characters (238 bits); Plumb keeps only its SHA-256 (a
/// key has too much entropy to guess, so a fast hash is enough) and its first characters.
///
/// ```swift
/// let key = PlumbKey.generate()          // sk-plumb-3fQ…  (printed once)
/// PlumbKey.hash(key)                     // 64 hex, what the catalog stores
/// PlumbKey.isPlumbKey("sk-proj-…")      // false: a provider key, forwarded as it is
/// ```
public enum PlumbKey {
    public static let prefix = "sk-plumb-"
    static let randomLength = 40
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    public static func generate() -> String {
        var g = SystemRandomNumberGenerator()       // getrandom(2): a cryptographic source
        var out = Array(prefix.utf8)
        for _ in 0..<randomLength { out.append(alphabet[Int.random(in: 0..<alphabet.count, using: &g)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func hash(_ key: String) -> String { SHA256.hex(Array(key.utf8)) }

    /// Whether a credential is shaped like a Plumb key (then it must be one: never forwarded).
    public static func isPlumbKey(_ credential: String) -> Bool { credential.hasPrefix(prefix) }

    /// What listings show of a key: the prefix and four characters.
    public static func shownPrefix(_ key: String) -> String { String(key.prefix(prefix.count + 4)) }

    /// A key's name: 1 to 64 of letters, digits, `-`, `_` and `.` (it appears in spans and headers).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy {
            $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") ||
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
        }
    }
}
