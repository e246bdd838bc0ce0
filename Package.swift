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
//
// The extensions each choice rests on, which are also what the compiler may then use and so
// what CPUFeatureGuard checks before main: a build copied to a CPU without them stops with one
// line instead of SIGILL.
let avx2Features = ["avx2", "fma", "bmi2"]
let avx512Features = avx2Features + ["avx512f", "avx512dq", "avx512bw", "avx512vl"]

func engineTargetCPU() -> String? {
    if let chosen = ProcessInfo.processInfo.environment["FHE_TARGET_CPU"] {
        return chosen == "generic" ? nil : chosen
    }
    #if arch(x86_64) && os(Linux)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(flagsLine.split(separator: " ").map(String.init))
    if flags.isSuperset(of: avx512Features) { return "skylake-avx512" }
    if flags.isSuperset(of: avx2Features) { return "haswell" }
    #endif
    return nil
}

// CPUs with AVX-512 (F, DQ, BW, VL). The engine's kernels are written for both vector
// widths, and ENGINE_AVX512 picks the wide one: 32 registers of eight Doubles hold an FFT
// butterfly pass on eight lanes (FourierLanes.swift), and AVX-512DQ converts 64-bit integer
// lanes to and from Doubles in one instruction; elsewhere the passes run on four lanes and
// the conversions by exact floating-point tricks (SIMDBuiltins.swift).
let avx512TargetCPUs: Set<String> = ["skylake-avx512", "cascadelake", "cooperlake", "icelake-server", "icelake-client",
                                     "tigerlake", "sapphirerapids", "emeraldrapids", "graniterapids", "znver4", "znver5", "x86-64-v4"]

// CPUs with AVX2, FMA and BMI2 but not AVX-512.
let avx2TargetCPUs: Set<String> = ["haswell", "broadwell", "skylake", "alderlake", "raptorlake", "meteorlake", "arrowlake",
                                   "znver1", "znver2", "znver3", "x86-64-v3"]

// Decided once (it reads /proc/cpuinfo).
let engineCPU = engineTargetCPU()

// The extensions CPUFeatureGuard checks for the engine's target CPU. A CPU named in
// FHE_TARGET_CPU outside the two lists above is not checked.
let engineRequiredFeatures: [String] = engineCPU.map { cpu in
    avx512TargetCPUs.contains(cpu) ? avx512Features : avx2TargetCPUs.contains(cpu) ? avx2Features : []
} ?? []

let cpuGuardSettings: [CSetting] = (engineCPU.map { [.define("FHE_ENGINE_TARGET_CPU", to: $0)] } ?? [])
    + engineRequiredFeatures.map { .define("FHE_NEEDS_" + $0.uppercased()) }

let engineSettings: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"] + (engineCPU.map { ["-target-cpu", $0] } ?? []),
                 .when(configuration: .release)),
] + (engineCPU.map(avx512TargetCPUs.contains) == true ? [.define("ENGINE_AVX512")] : [])

// The FFT permutes SIMD lanes with LLVM's `shufflevector` (Builtin.shufflevector, as the
// standard library's own SIMD code does); Swift's element-wise initialisers compile to scalar
// code inside the FFT's kernels.
let laneShuffleSettings: [SwiftSetting] = [.unsafeFlags(["-enable-builtin-module"])]

let package = Package(
    name: "fhe-jobs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TFHE", targets: ["TFHE"]),
        .executable(name: "fhe", targets: ["fhe"]),
        .executable(name: "fhe-jobs", targets: ["fhe-jobs"]),
    ],
    dependencies: [
        // Engine and CLI.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        // 4.5 for HPKE with X-Wing (result retrieval's post-quantum seal).
        .package(url: "https://github.com/apple/swift-crypto.git", "4.5.0"..<"5.0.0"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        // Job service.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // Chain confirmation.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Fetching client-supplied URLs (SafeFetch): the NIO and TLS pieces under AsyncHTTPClient.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
    ],
    targets: [
        // MARK: Engine
        .target(
            name: "TFHE",
            dependencies: ["CPUFeatureGuard", .product(name: "_CryptoExtras", package: "swift-crypto")],
            swiftSettings: laneShuffleSettings
        ),
        // Stops a program before main when the CPU lacks an extension the engine was compiled
        // for (C, built for the baseline x86-64, so the check itself cannot fault).
        .target(name: "CPUFeatureGuard", cSettings: cpuGuardSettings),
        .executableTarget(
            name: "fhe",
            dependencies: ["TFHE", "FHEPrograms", "FHEClient", "Jobs", "Chain",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The client of the confidential-job flow (`fhe client`): the REST API, saved keys and
        // pins, the retrieval protocol's client side.
        .target(name: "FHEClient", dependencies: ["FHEPrograms", "Jobs", "TFHE", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "TFHETests", dependencies: ["TFHE"], resources: []),
        // Encrypted algorithms on radix integers: typed inputs and outputs, exact cost, progress.
        .target(name: "FHEPrograms", dependencies: ["TFHE"]),
        .testTarget(name: "FHEProgramsTests", dependencies: ["FHEPrograms", "TFHE"]),
        // The README's engine example, built and run by the tests as it is printed there.
        .executableTarget(name: "engine-in-brief", dependencies: ["TFHE"], path: "Examples/EngineInBrief"),
        .executableTarget(
            name: "TFHEBenchmarks",
            dependencies: ["TFHE", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/TFHEBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),

        // MARK: Job service
        // Domain rules and ports (JobStore, ResultConfirmer, JobExecutor); no HTTP, no SQL.
        .target(
            name: "Jobs",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The blob store alone (its filesystem adapter), quick to build without the service.
        .testTarget(name: "JobsBlobTests", dependencies: ["Jobs"]),
        .target(name: "JobStoreSQLite", dependencies: ["Jobs", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "JobStorePostgres", dependencies: ["Jobs", .product(name: "PostgresNIO", package: "postgres-nio")]),
        // The regular compute algorithms (job type `compute`).
        .systemLibrary(name: "CGMP", path: "Sources/CGMP", pkgConfig: nil, providers: [.apt(["libgmp-dev", "libecm1-dev"])]),
        .target(name: "ComputeJobs", dependencies: ["Jobs", "CGMP", .product(name: "Crypto", package: "swift-crypto")]),
        // Confidential jobs (job type `fhe_compute`): the key service, the server-key cache,
        // submission checks and quotes, and the workers' FHE executor.
        .target(
            name: "FHEJobs",
            dependencies: [
                "Jobs", "FHEPrograms", "TFHE", "SafeFetch",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // HTTP: handlers generated from openapi.yml, auth, limits, problem+json.
        .target(
            name: "JobsServer",
            dependencies: [
                "Jobs",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // The EVM client (RLP, Keccak-256, secp256k1, EIP-1559, ABI, JSON-RPC), the JobsRegistry
        // contract and the chain confirmer.
        .systemLibrary(name: "CSecp256k1", path: "Sources/CSecp256k1", pkgConfig: nil, providers: [.apt(["libsecp256k1-dev"])]),
        .target(
            name: "Chain",
            dependencies: [
                "Jobs", "CSecp256k1",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Fetching a client-supplied URL at job submission without letting the client reach
        // internal services (SSRF): allow-listed hosts, every resolved address checked and pinned.
        .target(
            name: "SafeFetch",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "SafeFetchTests",
            dependencies: [
                "SafeFetch",
                // A plain HTTP/1.1 server on 127.0.0.1 for the tests.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "ChainTests", dependencies: ["Chain", "Jobs", "JobStoreSQLite", "JobStorePostgres"]),
        .executableTarget(
            name: "fhe-jobs",
            dependencies: [
                "Jobs", "JobStoreSQLite", "JobStorePostgres", "ComputeJobs", "FHEJobs", "FHEPrograms", "FHEClient", "TFHE", "SafeFetch", "JobsServer", "Chain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "JobsTests",
            dependencies: [
                "Jobs", "JobStoreSQLite", "JobStorePostgres", "ComputeJobs", "JobsServer", "FHEJobs", "FHEPrograms", "TFHE", "SafeFetch",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
    ]
)

// Code that calls the engine gets its generic functions specialised into its own module, so
// every target is compiled with the engine's settings.
// (CPUFeatureGuard is C, compiled for the baseline CPU on purpose.)
for target in package.targets where target.type != .plugin && target.type != .system && target.type != .binary
    && target.name != "CPUFeatureGuard" {
    target.swiftSettings = (target.swiftSettings ?? []) + engineSettings
}
