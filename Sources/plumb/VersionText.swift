import PlumbCore
import PlumbDash
import PlumbDigest
import PlumbStore

/// What `plumb --version` prints: Plumb's version, the Swift packages compiled into the binary
/// (their versions pinned `exact:` in Package.swift; swift-atomics and swift-collections come
/// with swift-nio, and the test suite checks every one against what the build resolved), and the
/// system libraries as loaded.
enum VersionText {
    static let plumb = "0.1.0"

    static let swiftPackages: [(name: String, version: String)] = [
        ("swift-argument-parser", "1.8.2"),
        ("swift-nio", "2.101.3"),
        ("swift-nio-ssl", "2.37.6"),
        ("swift-protobuf", "1.39.0"),
        ("swift-atomics", "1.3.0"),
        ("swift-collections", "1.6.0"),
    ]

    static var text: String {
        let libraries: [LinkedLibrary] = [.lz4, .sqlite, .libcrypto, .curl, .zlib, .ncursesw]
        return """
            plumb \(plumb)
            Swift packages: \(swiftPackages.map { "\($0.name) \($0.version)" }.joined(separator: ", "))
            System libraries: \(libraries.map(\.description).joined(separator: ", "))
            """
    }
}
