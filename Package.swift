// swift-tools-version:6.0
import PackageDescription

// Module direction (DESIGN.md): PlumbCore ← PlumbStore ← PlumbQuery ← PlumbProxy/PlumbDash/PlumbDigest ← plumb.
let package = Package(
    name: "plumb",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "plumb", targets: ["plumb"]),
        .executable(name: "plumb-bench", targets: ["PlumbBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System library shims (Debian -dev packages; see tools/bootstrap.sh).
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CNCursesW", providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Our own C: the SSE4.2 CRC-32C instruction, which Swift cannot emit directly.
        .target(name: "CPlumbSupport"),

        .target(name: "PlumbCore", dependencies: ["CCrypto"]),
        .target(name: "PlumbStore", dependencies: ["PlumbCore", "CLZ4", "CSQLite", "CCrypto", "CPlumbSupport"]),
        .target(name: "PlumbQuery", dependencies: ["PlumbCore", "PlumbStore"]),
        .target(name: "PlumbProxy", dependencies: ["PlumbCore", "PlumbStore", "PlumbQuery"]),
        .target(name: "PlumbDash", dependencies: ["PlumbCore", "PlumbStore", "PlumbQuery", "CNCursesW"]),
        .target(name: "PlumbDigest", dependencies: ["PlumbCore", "PlumbStore", "PlumbQuery", "CCurl"]),
        .executableTarget(
            name: "plumb",
            dependencies: [
                "PlumbCore", "PlumbStore", "PlumbQuery", "PlumbProxy", "PlumbDash", "PlumbDigest",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "PlumbBench", dependencies: ["PlumbCore", "PlumbStore"]),

        .target(name: "PlumbTestSupport", dependencies: ["PlumbCore"], path: "Tests/PlumbTestSupport"),
        .testTarget(name: "PlumbCoreTests", dependencies: ["PlumbCore"]),
        .testTarget(name: "PlumbStoreTests", dependencies: ["PlumbCore", "PlumbStore", "PlumbTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PlumbCore", "PlumbStore", "PlumbTestSupport"]),
    ]
)
