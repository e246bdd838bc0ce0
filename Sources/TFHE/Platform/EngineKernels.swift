import CPUFeatureGuard

/// The vector kernels this build of the engine runs and the CPU it was compiled for, for
/// `fhe bench` and logs. Both are fixed when the engine is compiled (Package.swift's
/// `-target-cpu` and `ENGINE_AVX512`); CPUFeatureGuard refuses to start on a CPU without the
/// extensions that build uses.
public enum EngineKernels {
    public static var description: String {
        #if ENGINE_AVX512
        let conversions = "64-bit lane conversions by AVX-512DQ instructions"
        #else
        let conversions = "64-bit lane conversions by exact floating-point splitting"
        #endif
        let features = requiredCPUFeatures.isEmpty ? "" : " (\(requiredCPUFeatures.joined(separator: " ")))"
        return "FFT passes on \(PassLanes.scalarCount) Double lanes, \(conversions); compiled for \(targetCPU)\(features)"
    }

    /// The `-target-cpu` the engine was compiled for ("generic": the baseline of its architecture).
    public static var targetCPU: String { String(cString: fhe_engine_target_cpu()) }

    /// The instruction-set extensions that target lets the compiler use, which this CPU has
    /// (the program would not have started otherwise).
    public static var requiredCPUFeatures: [String] {
        String(cString: fhe_engine_required_cpu_features()).split(separator: " ").map(String.init)
    }

    /// The first required extension this CPU lacks; nil whenever code is running.
    static var missingCPUFeature: String? { fhe_engine_missing_cpu_feature().map { String(cString: $0) } }
}
