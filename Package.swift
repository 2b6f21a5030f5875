// swift-tools-version:6.0
import PackageDescription

// Module direction (DESIGN.md): PlumbCore ← PlumbStore ← PlumbQuery ← PlumbProxy/PlumbDash/PlumbDigest ← plumb.
let package = Package(
    name: "plumb",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "plumb", targets: ["plumb"]),
        .executable(name: "plumb-bench", targets: ["PlumbBench"]),
        .executable(name: "plumb-mock", targets: ["plumb-mock"]),
        .executable(name: "plumb-fuzz", targets: ["plumb-fuzz"]),
    ],
    dependencies: [
        // Exact versions: Package.resolved cannot be committed here, and `plumb --version` names
        // them (Sources/plumb/VersionText.swift; a test checks both against the resolved graph).
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        // OTLP's protobuf encoding (the message types are generated once, tools/gen_otlp.sh).
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        // plumb-mock only (not in the plumb binary's graph).
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        // System library shims (Debian -dev packages; see tools/bootstrap.sh).
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CNCursesW", providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Our own C: the SSE4.2 CRC-32C instruction, which Swift cannot emit directly.
        .target(name: "CPlumbSupport"),

        // schemas/pricing.json (a symlink under Resources/) is compiled into the binary.
        .target(name: "PlumbCore", dependencies: ["CCrypto", "CCurl", "CZlib"], resources: [.embedInCode("Resources/pricing.json")],
                swiftSettings: hotPathSettings),
        .target(name: "PlumbStore", dependencies: ["PlumbCore", "CLZ4", "CSQLite", "CCrypto", "CPlumbSupport"],
                swiftSettings: hotPathSettings),
        .target(name: "PlumbQuery", dependencies: ["PlumbCore", "PlumbStore"], swiftSettings: hotPathSettings),
        // Exporters: every stored span to OTLP/HTTP and ClickHouse, from a durable cursor.
        .target(name: "PlumbExport", dependencies: [
            "PlumbCore", "PlumbStore", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ], resources: [.embedInCode("Resources/clickhouse.sql")]),
        .target(
            name: "PlumbProxy",
            dependencies: [
                "PlumbCore", "PlumbStore", "PlumbQuery", "PlumbExport", "PlumbAlerts",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: hotPathSettings
        ),
        .target(name: "PlumbDash", dependencies: ["PlumbCore", "PlumbStore", "PlumbQuery", "CNCursesW"],
                resources: ["overview", "incidents", "spend", "providers", "tail"].map { .embedInCode("Resources/\($0).toml") }),
        .target(name: "PlumbDigest", dependencies: ["PlumbCore", "PlumbStore", "PlumbQuery", "CCurl"]),
        // Alert rules evaluated inside plumb serve, their state and outbox in the catalog.
        .target(name: "PlumbAlerts", dependencies: ["PlumbCore", "PlumbStore", "PlumbQuery", "PlumbDigest"]),
        .executableTarget(
            name: "plumb",
            dependencies: [
                "PlumbCore", "PlumbStore", "PlumbQuery", "PlumbProxy", "PlumbDash", "PlumbDigest", "PlumbExport", "PlumbAlerts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "PlumbBench", dependencies: [
            "PlumbCore", "PlumbStore", "PlumbQuery", "PlumbDash", "PlumbExport",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // The simulated providers for tests and benchmarks (no internet here): OpenAI, Anthropic and
        // Gemini wire formats, with latency, pacing and faults chosen per request.
        .executableTarget(
            name: "plumb-mock",
            dependencies: [
                "PlumbCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "tools/mock-upstream"
        ),

        // Fuzz targets for every parser of untrusted bytes (tools/fuzz/README.md): libFuzzer with
        // `--sanitize=fuzzer -Xswiftc -DPLUMB_FUZZ`, or replaying the corpus in an ordinary build.
        .executableTarget(
            name: "plumb-fuzz",
            dependencies: [
                "PlumbCore", "PlumbStore", "PlumbQuery", "PlumbProxy", "PlumbExport", "PlumbAlerts", "PlumbTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "tools/fuzz",
            exclude: ["corpus", "README.md", "run.sh"]
        ),

        .target(name: "PlumbTestSupport", dependencies: ["PlumbCore", "PlumbStore"], path: "Tests/PlumbTestSupport"),
        .testTarget(name: "PlumbCoreTests", dependencies: ["PlumbCore"], exclude: ["Fixtures"]),
        .testTarget(name: "PlumbStoreTests", dependencies: ["PlumbCore", "PlumbStore", "PlumbTestSupport"]),
        .testTarget(name: "PlumbProxyTests", dependencies: ["PlumbCore", "PlumbStore", "PlumbProxy", .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "PlumbQueryTests", dependencies: ["PlumbCore", "PlumbStore", "PlumbQuery", "PlumbTestSupport"]),
        .testTarget(name: "PlumbDashTests", dependencies: ["PlumbCore", "PlumbStore", "PlumbQuery", "PlumbDash", "PlumbTestSupport"]),
        .testTarget(name: "PlumbExportTests", dependencies: [
            "PlumbCore", "PlumbStore", "PlumbExport", "PlumbTestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .testTarget(name: "PlumbDigestTests", dependencies: ["PlumbCore", "PlumbDigest"]),
        .testTarget(name: "PlumbAlertsTests", dependencies: ["PlumbCore", "PlumbStore", "PlumbAlerts", "PlumbTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PlumbCore", "PlumbStore", "PlumbTestSupport"]),
    ]
)

/// The store's and the query engine's hot loops run on class state (accumulators, group tables,
/// the writer's queues), and so does a proxied call: in release builds, exclusivity is checked at
/// compile time only (the run-time checks were about 8% of a grouped scan, 1.5% of a call). Debug builds, which run every test, keep
/// the run-time checks.
var hotPathSettings: [SwiftSetting] { [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))] }
