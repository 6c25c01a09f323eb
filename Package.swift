// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "backfill",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "backfill", targets: ["backfill"]),
        .library(name: "BackfillCore", targets: ["BackfillCore"]),
        .library(name: "BackfillSQLite", targets: ["BackfillSQLite"]),
        .library(name: "BackfillFiles", targets: ["BackfillFiles"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        .target(
            name: "BackfillCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BackfillSQLite",
            dependencies: [
                "BackfillCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BackfillFiles",
            dependencies: [
                "BackfillCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BackfillTesting",
            dependencies: ["BackfillCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .executableTarget(
            name: "backfill",
            dependencies: [
                "BackfillCore",
                "BackfillSQLite",
                "BackfillFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "BackfillCoreTests", dependencies: ["BackfillCore"]),
        .testTarget(
            name: "BackfillSQLiteTests",
            dependencies: ["BackfillCore", "BackfillSQLite", "BackfillTesting", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "BackfillFilesTests", dependencies: ["BackfillCore", "BackfillFiles"]),
        .testTarget(
            name: "BackfillCLITests",
            dependencies: ["BackfillCore", "BackfillTesting", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
