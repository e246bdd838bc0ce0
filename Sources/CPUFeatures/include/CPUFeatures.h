#ifndef CPU_FEATURES_H
#define CPU_FEATURES_H

/// 1 when this CPU (and its operating system, which must save the wider registers) supports
/// the x86-64 microarchitecture level: 3 is AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE;
/// 4 adds AVX-512 F, BW, CD, DQ and VL. 0 otherwise, and on other architectures.
int fhe_cpu_supports_x86_64_v3(void);
int fhe_cpu_supports_x86_64_v4(void);

#endif
