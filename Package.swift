// swift-tools-version: 6.1
import Foundation
import PackageDescription

// The engine is unusable without optimization, so tests and benchmarks are built with
// `-c release` (see scripts/test). Cross-module optimization lets the CLI and the job
// service specialise the engine's generic entry points.
//
// Like `-march=native`, the engine is compiled for the CPU that builds it, so its SIMD types
// become AVX-512 or AVX2 instructions (and Double rounding a single instruction rather than a
// libm call). FHE_TARGET_CPU overrides the choice (a clang CPU name, or "generic" for a
// portable build).
func engineTargetCPU() -> String? {
    if let chosen = ProcessInfo.processInfo.environment["FHE_TARGET_CPU"] {
        return chosen == "generic" ? nil : chosen
    }
    #if arch(x86_64) && os(Linux)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(flagsLine.split(separator: " ").map(String.init))
    if flags.isSuperset(of: ["avx512f", "avx512dq", "avx512bw", "avx512vl", "fma"]) { return "skylake-avx512" }
    if flags.isSuperset(of: ["avx2", "fma", "bmi2"]) { return "haswell" }
    #endif
    return nil
}

let engineSettings: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"] + (engineTargetCPU().map { ["-target-cpu", $0] } ?? []),
                 .when(configuration: .release)),
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

// Code that calls the engine gets its generic functions specialised into its own module, so
// every target is compiled with the engine's settings.
for target in package.targets where target.type != .plugin && target.type != .system && target.type != .binary {
    target.swiftSettings = (target.swiftSettings ?? []) + engineSettings
}
