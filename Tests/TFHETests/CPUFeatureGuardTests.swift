import Foundation
import Testing
@testable import TFHE

/// CPUFeatureGuard: a build of the engine stops before main, with one line, on a CPU that
/// lacks an extension it was compiled for, instead of dying of SIGILL somewhere later.
@Suite("CPU feature guard")
struct CPUFeatureGuardTests {
    static let source = TestPaths.repository.appendingPathComponent("Sources/CPUFeatureGuard")

    @Test func thisBuildsRequirementsAreMet() throws {
        #expect(EngineKernels.missingCPUFeature == nil)
        let required = EngineKernels.requiredCPUFeatures
        #if ENGINE_AVX512
        #expect(required.contains("avx512dq"), "an AVX-512 build checks for AVX-512DQ")
        #endif
        #expect(EngineKernels.description.contains("compiled for \(EngineKernels.targetCPU)"))
        #if os(Linux) && arch(x86_64)
        // The kernel's view of the CPU agrees with the guard's.
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }!.split(separator: " ").map(String.init))
        for feature in required { #expect(flags.contains(feature), "\(feature)") }
        #endif
    }

    /// Compiles the guard with a stand-in main, as a build for `cpu` needing `features`, on a
    /// CPU that has every extension or none; returns the exit status, stdout and stderr.
    func runGuard(cpu: String, features: [String], cpuHasThem: Bool) throws -> (status: Int32, output: String, errors: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cpu-guard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let main = folder.appendingPathComponent("main.c")
        try "#include <stdio.h>\nint main(void) { puts(\"reached main\"); return 0; }\n".write(to: main, atomically: true, encoding: .utf8)
        let binary = folder.appendingPathComponent("guarded")
        let compile = try TestPaths.run(URL(fileURLWithPath: "/usr/bin/env"), [
            "clang", "-Wall", "-Werror", "-I", Self.source.appendingPathComponent("include").path,
            "-DFHE_ENGINE_TARGET_CPU=\(cpu)", "-DFHE_CPU_SUPPORTS(name)=\(cpuHasThem ? 1 : 0)",
        ] + features.map { "-DFHE_NEEDS_\($0.uppercased())" } + [Self.source.appendingPathComponent("guard.c").path, main.path, "-o", binary.path])
        #expect(compile.status == 0, "clang (the Swift toolchain's) compiles the guard: \(compile.errors)")
        return try TestPaths.run(binary)
    }

    @Test func aCPUWithoutTheExtensionsIsRefusedBeforeMain() throws {
        #if arch(x86_64)
        let refused = try runGuard(cpu: "skylake-avx512", features: ["avx2", "fma", "avx512f", "avx512dq"], cpuHasThem: false)
        #expect(refused.status == 1)
        #expect(refused.output.isEmpty, "main never ran")
        let lines = refused.errors.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(refused.errors.contains("compiled for skylake-avx512 (avx2 fma avx512f avx512dq)"))
        #expect(refused.errors.contains("has no avx2"), "the first missing extension is named")

        let allowed = try runGuard(cpu: "haswell", features: ["avx2", "fma", "bmi2"], cpuHasThem: true)
        #expect(allowed.status == 0 && allowed.output == "reached main\n" && allowed.errors.isEmpty)
        #endif
    }

    /// The real `fhe` built beside these tests, run by qemu's user-mode emulator as a Nehalem
    /// (SSE4.2, no AVX): a build for AVX2 or AVX-512 must stop with the guard's line, a portable
    /// build must run.
    @Test func theBuiltToolOnAnOlderCPU() throws {
        #if os(Linux) && arch(x86_64)
        let tool = TestPaths.built("fhe")
        let qemu = try #require(["/usr/bin/qemu-x86_64", "/usr/bin/qemu-x86_64-static"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                "qemu-user is missing (scripts/test installs it)")
        try #require(FileManager.default.isExecutableFile(atPath: tool.path), "build fhe first (scripts/test does)")
        let (status, output, errors) = try TestPaths.run(URL(fileURLWithPath: qemu), ["-cpu", "Nehalem", tool.path, "--help"])
        if let first = EngineKernels.requiredCPUFeatures.first {
            #expect(status == 1, "\(errors)")
            #expect(output.isEmpty)
            #expect(errors == "error: this build's TFHE engine was compiled for \(EngineKernels.targetCPU) "
                    + "(\(EngineKernels.requiredCPUFeatures.joined(separator: " "))) and this CPU has no \(first); "
                    + "rebuild it on this machine, or with FHE_TARGET_CPU=generic for any x86-64\n")
        } else {
            #expect(status == 0 && output.contains("USAGE"), "\(errors)")
        }
        #endif
    }
}
