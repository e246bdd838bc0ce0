// The CPU's x86-64 feature level, for choosing the engine's kernel set
// (Sources/TFHE/Platform/EngineKernels.swift). The compiler's own detection reads CPUID and
// XGETBV, so a level counts only when the operating system also saves its registers. This
// file is compiled for the baseline x86-64 (SwiftPM passes no -march to C targets), so the
// check itself runs on any CPU.

#include "CPUFeatures.h"

int fhe_cpu_supports_x86_64_v3(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v3") ? 1 : 0;
#else
    return 0;
#endif
}

int fhe_cpu_supports_x86_64_v4(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v4") ? 1 : 0;
#else
    return 0;
#endif
}
