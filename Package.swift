// swift-tools-version:6.2
import PackageDescription

// pickupbox: one package, modules with one-way dependencies (see README "Architecture").
// No SwiftNIO anywhere in the graph: the HTTP server is our own, on sockets.

// Every Swift target: a file sees another module's members (extensions, conformances) only when it
// imports that module itself, so each target's dependencies below are exactly what its files import.
let swiftSettings: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "pickupbox",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pickupbox", targets: ["pickupbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C shims: module map + header, nothing else.
        .target(name: "CSystem", path: "Sources/CSystem"),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CArgon2", path: "Sources/CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CQREncode", path: "Sources/CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),

        // SHA-256, HMAC, AES-256-GCM, random bytes, hex, constant-time comparison: the one OpenSSL wrapper
        // outside TLS (which stays in HTTPServer).
        .target(name: "Crypto", dependencies: ["COpenSSL"], swiftSettings: swiftSettings),
        // The one overflow-safe parser for decimal integers in untrusted text; below every module that reads numbers.
        .target(name: "DecimalParsing", swiftSettings: swiftSettings),
        .target(
            name: "HTTPServer",
            dependencies: [
                "CSystem",
                "CZlib",
                "COpenSSL",
                "DecimalParsing",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                "Crypto",
                "DecimalParsing",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A development tool, not part of the production database layer: a private PostgreSQL cluster for
        // `pickupbox serve` without DATABASE_URL and for the tests.
        .target(
            name: "EmbeddedPostgres",
            dependencies: [
                "CSystem",
                "Crypto",
                "Postgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "Domain", dependencies: ["DecimalParsing"], swiftSettings: swiftSettings),
        .target(
            name: "SMSGateway",
            dependencies: [
                "CCurl",
                "Crypto",
                "DecimalParsing",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "App",
            dependencies: [
                "HTTPServer",
                "Postgres",
                "Domain",
                "SMSGateway",
                "Crypto",
                "DecimalParsing",
                "CArgon2",
                "CQREncode",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The browser frontend: plain files, no build step (Sources/App/Public → <exe dir>/pickupbox_App.resources/Public).
            resources: [.copy("Public")],
            swiftSettings: swiftSettings
        ),
        .target(name: "HTTPTestSupport", dependencies: ["HTTPServer", "COpenSSL", "DecimalParsing", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .target(name: "PostgresTestSupport", dependencies: ["Postgres", "EmbeddedPostgres", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        // Writes the commit and the migration level into the executable before every build (`pickupbox version`).
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .executableTarget(
            name: "pickupbox",
            dependencies: [
                "App",
                "CSystem",
                "DecimalParsing",
                "EmbeddedPostgres",
                "HTTPServer",
                "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["BuildInfo"]
        ),
        .executableTarget(
            name: "pickupbox-bench",
            dependencies: [
                "HTTPServer",
                "HTTPTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "CryptoTests", dependencies: ["Crypto"], swiftSettings: swiftSettings),
        .testTarget(name: "DecimalParsingTests", dependencies: ["DecimalParsing"], swiftSettings: swiftSettings),
        .testTarget(name: "HTTPServerTests", dependencies: ["CSystem", "HTTPServer", "HTTPTestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "EmbeddedPostgres", "PostgresTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DomainTests", dependencies: ["Domain"], swiftSettings: swiftSettings),
        .testTarget(name: "SMSGatewayTests", dependencies: ["SMSGateway", "Crypto", "HTTPTestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "App", "Crypto", "Domain", "EmbeddedPostgres", "HTTPServer", "Postgres", "PostgresTestSupport", "HTTPTestSupport", "SMSGateway",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The fault suite (issue #14 §2): real `pickupbox` processes, injected faults, invariants checked in
        // PostgreSQL. Runs in `make test` (PICKUPBOX_FAULTS=1); several minutes, so `swift test` alone skips it.
        .testTarget(
            name: "FaultTests",
            dependencies: ["EmbeddedPostgres", "Postgres", "PostgresTestSupport", "HTTPTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz targets (issue #14 §3): libFuzzer drives them, so they link only with -sanitize=fuzzer. They
// exist only for `make fuzz` (PICKUPBOX_FUZZ=1, scratch path .build-fuzz); other builds never see them.
if Context.environment["PICKUPBOX_FUZZ"] == "1" {
    package.products.append(.executable(name: "pickupbox-fuzz", targets: ["PickupboxFuzz"]))
    package.targets.append(.executableTarget(name: "PickupboxFuzz", dependencies: ["HTTPServer", "Domain", "App"], path: "Tests/Fuzz/Sources/PickupboxFuzz",
                                                     swiftSettings: swiftSettings))
}
