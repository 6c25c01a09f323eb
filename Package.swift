// swift-tools-version: 6.0
import Foundation
import PackageDescription

let package = Package(
    name: "backfill",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "backfill", targets: ["backfill"]),
        .library(name: "BackfillCore", targets: ["BackfillCore"]),
        .library(name: "BackfillSQLite", targets: ["BackfillSQLite"]),
        .library(name: "BackfillFiles", targets: ["BackfillFiles"]),
        .library(name: "BackfillPostgres", targets: ["BackfillPostgres"]),
        .library(name: "BackfillMySQL", targets: ["BackfillMySQL"]),
        .library(name: "BackfillHTTP", targets: ["BackfillHTTP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", exact: "2.0.1"),
    ],
    targets: [
        .target(
            name: "BackfillCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "BackfillSQLite",
            dependencies: [
                "BackfillCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BackfillFiles",
            dependencies: [
                "BackfillCore",
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(
            name: "BackfillPostgres",
            dependencies: [
                "BackfillCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BackfillMySQL",
            dependencies: [
                "BackfillCore",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "BackfillHTTP",
            dependencies: [
                "BackfillCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BackfillServer",
            dependencies: [
                "BackfillCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BackfillTesting",
            dependencies: [
                "BackfillCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "backfill",
            dependencies: [
                "BackfillCore",
                "BackfillSQLite",
                "BackfillFiles",
                "BackfillPostgres",
                "BackfillMySQL",
                "BackfillHTTP",
                "BackfillServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            plugins: ["BuildInfo"]
        ),
        .plugin(name: "BuildInfo", capability: .buildTool(), path: "Plugins/BuildInfo"),
        .executableTarget(name: "backfill-receiver", dependencies: ["BackfillTesting"], path: "Benchmarks/receiver"),
        .testTarget(
            name: "BackfillCoreTests",
            dependencies: ["BackfillCore", "BackfillTesting", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "BackfillSQLiteTests",
            dependencies: ["BackfillCore", "BackfillSQLite", "BackfillTesting", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "BackfillFilesTests",
            dependencies: ["BackfillCore", "BackfillFiles", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "BackfillHTTPTests", dependencies: ["BackfillCore", "BackfillHTTP", "BackfillTesting"]),
        .testTarget(
            name: "BackfillCLITests",
            dependencies: [
                "BackfillCore", "BackfillTesting", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(name: "BackfillMySQLTests", dependencies: ["BackfillCore", "BackfillMySQL"]),
        .testTarget(
            name: "BackfillPostgresTests",
            dependencies: ["BackfillCore", "BackfillPostgres", "BackfillTesting", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
    ]
)

// The libFuzzer harness exists only for `scripts/fuzz.sh` (BACKFILL_FUZZ=1, its own scratch path,
// every module built with -sanitize=fuzzer): its entry point is libFuzzer's `main`.
if ProcessInfo.processInfo.environment["BACKFILL_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "backfill-fuzz", dependencies: ["BackfillCore", "BackfillFiles", "BackfillPostgres"], path: "Fuzz", exclude: ["seeds"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}

