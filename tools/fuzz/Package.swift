// swift-tools-version: 6.1
import PackageDescription

// The libFuzzer build of the parsers that take outside bytes (scripts/fuzz builds and runs it).
// A package of its own, so that the root package's builds never see the instrumentation and CI
// never compiles it: only the root's `FuzzTargets` library and the modules it needs are built
// here, with `-sanitize=fuzzer`, in their own scratch folder (.build-fuzz).
let package = Package(
    name: "fhe-jobs-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "fhe-jobs", path: "../..")],
    targets: [
        // libFuzzer's driver holds `main`; this module gives its two entry points.
        .executableTarget(
            name: "fuzz-parsers",
            dependencies: [.product(name: "FuzzTargets", package: "fhe-jobs")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
