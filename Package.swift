// swift-tools-version: 6.1
import PackageDescription

// The engine is unusable without optimization, so tests and benchmarks are built with
// `-c release` (see scripts/test). Cross-module optimization lets the CLI and the job
// service specialise the engine's generic entry points.
let engineSettings: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "fhe-jobs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TFHE", targets: ["TFHE"]),
        .executable(name: "fhe", targets: ["fhe"]),
    ],
    dependencies: [
        // Engine and CLI.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // MARK: Engine
        .target(
            name: "TFHE",
            dependencies: [.product(name: "_CryptoExtras", package: "swift-crypto")],
            swiftSettings: engineSettings
        ),
        .executableTarget(
            name: "fhe",
            dependencies: ["TFHE", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "TFHETests", dependencies: ["TFHE"], resources: []),
        .executableTarget(
            name: "TFHEBenchmarks",
            dependencies: ["TFHE", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/TFHEBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
