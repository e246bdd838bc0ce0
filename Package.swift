// swift-tools-version: 6.1
import Foundation
import PackageDescription

// The engine is unusable without optimization, so tests and benchmarks are built with
// `-c release` (see scripts/test). Cross-module optimization lets the CLI and the job
// service specialise the engine's generic entry points.
//
// One binary runs at full speed on every x86-64 CPU: the engine's hot kernels (the FFT, the
// blind rotation, the key switch: Sources/TFHE/Kernels) are compiled once per instruction set,
// each variant target taking the same files through a folder symlink, and `EngineKernels`
// picks the best one the CPU runs when the program starts. Everything else is compiled for
// the architecture's baseline, so a binary or image built on one machine runs on any other.
//
// AVX-512 (x86-64-v4: F, DQ, BW, VL): 32 registers of eight Doubles hold an FFT butterfly
// pass on eight lanes, and AVX-512DQ converts 64-bit integer lanes to and from Doubles in one
// instruction (ENGINE_AVX512). AVX2 with FMA (x86-64-v3): the passes on four lanes, the
// conversions by exact floating-point tricks (FourierLanes.swift, SIMDBuiltins.swift). The
// portable set is the one compiled into TFHE itself. `EngineKernels.required` holds the
// feature level each variant is checked against; keep it in step with the CPUs named here.
struct KernelVariant {
    let target: String
    let cpu: String
    let defines: [String]
}
#if arch(x86_64)
let kernelVariants = [
    KernelVariant(target: "TFHEKernelsAVX512", cpu: "skylake-avx512", defines: ["ENGINE_AVX512", "KERNELS_AVX512"]),
    KernelVariant(target: "TFHEKernelsAVX2", cpu: "haswell", defines: ["KERNELS_AVX2"]),
]
#else
let kernelVariants: [KernelVariant] = []
#endif

let engineSettings: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

// The FFT permutes SIMD lanes with LLVM's `shufflevector` (Builtin.shufflevector, as the
// standard library's own SIMD code does); Swift's element-wise initialisers compile to scalar
// code inside the FFT's kernels.
let laneShuffleSettings: [SwiftSetting] = [.unsafeFlags(["-enable-builtin-module"])]

let kernelVariantTargets: [Target] = kernelVariants.map { variant in
    .target(
        name: variant.target,
        dependencies: ["TFHEKernelABI"],
        swiftSettings: laneShuffleSettings + variant.defines.map { .define($0) }
            + [.unsafeFlags(["-target-cpu", variant.cpu], .when(configuration: .release))]
    )
}

let package = Package(
    name: "fhe-jobs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TFHE", targets: ["TFHE"]),
        .executable(name: "fhe", targets: ["fhe"]),
        .executable(name: "fhe-jobs", targets: ["fhe-jobs"]),
        // For the fuzzers' own package (tools/fuzz), which builds it instrumented.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
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
        // Tracing: spans through swift-distributed-tracing's API, exported by OTLP over HTTP
        // only (the gRPC exporter's packages would add minutes to every build).
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // Chain confirmation.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Fetching client-supplied URLs (SafeFetch): the NIO and TLS pieces under AsyncHTTPClient.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        // Tests only: X.509 certificates for the key service's mutual TLS, made per test run.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.10.0"),
    ],
    targets: [
        // MARK: Engine
        .target(
            name: "TFHE",
            dependencies: ["TFHEKernelABI", "CPUFeatures", .product(name: "_CryptoExtras", package: "swift-crypto")]
                + kernelVariants.map { .target(name: $0.target) },
            // The variants are imported by one file (EngineKernels+Variants.swift): their copies of
            // the kernels' extensions must not be seen anywhere else.
            swiftSettings: laneShuffleSettings + [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        // What the kernels take and give across the per-CPU compilations (pointers and sizes).
        .target(name: "TFHEKernelABI"),
        // The CPU's feature levels, through the compiler's own detection (C).
        .target(name: "CPUFeatures"),
        .executableTarget(
            name: "fhe",
            dependencies: ["TFHE", "FHEPrograms", "FHEClient", "Jobs", "Chain",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The client of the confidential-job flow (`fhe client`): the REST API, saved keys and
        // pins, the retrieval protocol's client side.
        .target(name: "FHEClient", dependencies: ["FHEPrograms", "Jobs", "TFHE", .product(name: "Crypto", package: "swift-crypto")]),
        // MemberImportVisibility: `@testable import TFHE` brings in the kernel variants, whose copies
        // of the kernels' extensions a file may see only through a module it imports itself.
        .testTarget(name: "TFHETests", dependencies: ["TFHE", "TFHEKernelABI"], resources: [],
                    swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
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
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The blob store in an S3 bucket (any S3-compatible server), with our own SigV4 signer.
        .target(
            name: "BlobStoreS3",
            dependencies: [
                "Jobs",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // The blob stores alone (the filesystem and S3 adapters, one behavioural suite for both,
        // and the SigV4 signer's vectors), quick to build without the service.
        .testTarget(name: "JobsBlobTests", dependencies: [
            "Jobs", "BlobStoreS3", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .target(name: "JobStoreSQLite", dependencies: ["Jobs", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "JobStorePostgres", dependencies: ["Jobs", .product(name: "PostgresNIO", package: "postgres-nio")]),
        // The regular compute algorithms (job type `compute`).
        .systemLibrary(name: "CGMP", path: "Sources/CGMP", pkgConfig: nil, providers: [.apt(["libgmp-dev", "libecm1-dev"])]),
        .target(name: "ComputeJobs", dependencies: ["Jobs", "CGMP", .product(name: "Crypto", package: "swift-crypto")]),
        // Confidential jobs (job type `fhe_compute`): the key service (embedded, or served on
        // its own over a Unix socket or mutual TLS), the server-key cache, submission checks
        // and quotes, and the workers' FHE executor.
        .target(
            name: "FHEJobs",
            dependencies: [
                "Jobs", "FHEPrograms", "TFHE", "SafeFetch",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // HTTP: handlers generated from openapi.yml, auth, limits, problem+json.
        .target(
            name: "JobsServer",
            dependencies: [
                "Jobs", "SafeFetch",
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
                "BlobStoreS3",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The key service's TLS context (`fhe-jobs keyservice`).
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "OTel", package: "swift-otel"),
            ]
        ),
        .testTarget(
            name: "JobsTests",
            dependencies: [
                "Jobs", "JobStoreSQLite", "JobStorePostgres", "ComputeJobs", "JobsServer", "FHEJobs", "FHEPrograms", "TFHE", "SafeFetch",
                "FHEClient",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),

        // MARK: Fuzzing
        // Every parser of outside bytes, one function each, with seeds from the real writers:
        // driven by libFuzzer in tools/fuzz (`scripts/fuzz`), and by the corpus replay here.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "TFHE", "FHEPrograms", "Jobs", "ComputeJobs", "Chain",
            ]
        ),
        // The authentication's targets (access tokens, JWKS), which need the HTTP module.
        .target(
            name: "AuthFuzzTargets",
            dependencies: [
                "FuzzTargets", "Jobs", "JobsServer",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Replays the committed corpora (Tests/FuzzCorpora) and the crashes' regression inputs.
        .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzTargets", "AuthFuzzTargets"]),
    ] + kernelVariantTargets
)

// Code that calls the engine gets its generic functions specialised into its own module, so
// every Swift target is compiled with the engine's settings.
for target in package.targets where target.type != .plugin && target.type != .system && target.type != .binary
    && target.name != "CPUFeatures" {
    target.swiftSettings = (target.swiftSettings ?? []) + engineSettings
}
