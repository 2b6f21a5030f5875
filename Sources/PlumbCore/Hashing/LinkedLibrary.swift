import CCrypto

/// A system library Plumb is linked with, and the version it reports at run time (for
/// `plumb --version`: the version loaded, which is what a security advisory asks about).
///
/// ```swift
/// LinkedLibrary.libcrypto.description   // "libcrypto OpenSSL 3.0.17 1 Jul 2025"
/// ```
public struct LinkedLibrary: Sendable, CustomStringConvertible {
    public let name: String
    public let version: String

    public init(name: String, version: String) { self.name = name; self.version = version }

    public var description: String { "\(name) \(version)" }

    public static var libcrypto: LinkedLibrary {
        LinkedLibrary(name: "libcrypto", version: String(cString: OpenSSL_version(OPENSSL_VERSION)))
    }
}
