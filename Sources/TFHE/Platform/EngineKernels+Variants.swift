import TFHEKernelABI

// The per-CPU variants of the kernels (Package.swift), imported here alone: each has its own
// copy of the kernels' types and extensions, which no other file of this module may see
// (MemberImportVisibility).
#if arch(x86_64)
internal import TFHEKernelsAVX512
internal import TFHEKernelsAVX2
#endif

extension EngineKernels {
    /// The variants compiled into this build, best first.
    static var variants: [any EngineKernelSet] {
        #if arch(x86_64)
        [TFHEKernelsAVX512.compiledKernelSet, TFHEKernelsAVX2.compiledKernelSet]
        #else
        []
        #endif
    }
}
