import CPUFeatures
import Foundation
import TFHEKernelABI

/// The engine's kernel sets, and the one this process runs.
///
/// The hot kernels (Kernels/) are compiled once per instruction set (Package.swift): AVX-512
/// and AVX2 variants on x86-64, and the portable set compiled into this module for the
/// architecture's baseline. At the first bootstrap, FFT or key switch the best set this CPU
/// runs is chosen, unless `FHE_KERNELS` names one (`avx512`, `avx2` or `portable`), for
/// comparing them; a name that is unknown, or a set this CPU cannot run, is refused with the
/// reason in `selectionNote` and the best set runs instead. Every set computes the same words
/// (EngineKernelsTests).
public enum EngineKernels {
    /// The environment variable that asks for a kernel set by name.
    public static let environmentVariable = "FHE_KERNELS"

    /// Every set compiled into this build, best first.
    public static var compiled: [any EngineKernelSet] { variants + [portable] }

    /// The sets this CPU runs, best first (the portable set always).
    public static var available: [any EngineKernelSet] {
        compiled.filter { cpuRuns($0.name) }
    }

    /// The set the engine uses.
    public static var selected: any EngineKernelSet { selection.set }

    /// Why the selected set was chosen, for `fhe bench` and the service's start-up log.
    public static var selectionNote: String { selection.note }

    /// The selected set and its shape, in one line.
    public static var description: String {
        "\(selected.name) kernels: \(selected.vectorShape) (\(selectionNote))"
    }

    /// The set named `name`, if it is compiled into this build and this CPU runs it.
    public static func set(named name: String) -> (any EngineKernelSet)? {
        available.first { $0.name == name }
    }

    /// The x86-64 feature level each variant is compiled for (Package.swift's `-target-cpu`
    /// choices enable no instruction outside it that the compiler emits on its own).
    static func cpuRuns(_ name: String) -> Bool {
        switch name {
        case "avx512": fhe_cpu_supports_x86_64_v4() != 0
        case "avx2": fhe_cpu_supports_x86_64_v3() != 0
        default: true
        }
    }

    static let portable: any EngineKernelSet = CompiledKernelSet()

    private static let selection: (set: any EngineKernelSet, note: String) = choose(
        requested: ProcessInfo.processInfo.environment[environmentVariable])

    /// The best set this CPU runs, or the one requested if it can.
    static func choose(requested: String?) -> (set: any EngineKernelSet, note: String) {
        let best = available[0]
        guard let requested, !requested.isEmpty else { return (best, "the best of \(availableNames) on this CPU") }
        if let set = set(named: requested) { return (set, "\(environmentVariable)=\(requested)") }
        let reason = compiled.contains { $0.name == requested }
            ? "this CPU cannot run the \(requested) kernels"
            : "\(requested) is not a kernel set of this build (\(compiled.map(\.name).joined(separator: ", ")))"
        return (best, "\(environmentVariable)=\(requested) refused: \(reason); running \(best.name)")
    }

    private static var availableNames: String { available.map(\.name).joined(separator: ", ") }
}

extension TorusScalar {
    /// The word, as the kernels' entry points take it.
    static var width: TorusWidth { bitWidth == 32 ? .bits32 : .bits64 }
}
