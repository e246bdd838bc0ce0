// Refuses to start a program whose engine was compiled for instructions this CPU lacks.
//
// Package.swift compiles the Swift code for the building machine's CPU (like -march=native),
// so an AVX2 or AVX-512 build copied to an older machine would otherwise die of SIGILL at
// the first vector instruction, wherever that happens to be. This file is compiled for the
// baseline x86-64 (SwiftPM passes no -march to C targets) and runs as an ELF constructor,
// before main and before any Swift code, so the check itself cannot fault; it prints one line
// and exits instead.
//
// Package.swift defines FHE_ENGINE_TARGET_CPU and one FHE_NEEDS_<EXTENSION> per extension.

#include "CPUFeatureGuard.h"

#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#define FHE_STRINGIFY(x) #x
#define FHE_STRING(x) FHE_STRINGIFY(x)

#ifdef FHE_ENGINE_TARGET_CPU
static const char target_cpu[] = FHE_STRING(FHE_ENGINE_TARGET_CPU);
#else
static const char target_cpu[] = "generic";
#endif

// How an extension is looked up; the guard's own test replaces it to play a CPU that lacks
// everything (Tests/TFHETests/CPUFeatureGuardTests.swift).
#ifndef FHE_CPU_SUPPORTS
#define FHE_CPU_SUPPORTS(name) __builtin_cpu_supports(name)
#endif

// Each extension the engine's builds may use, as a " name" when this build needs it.
#ifdef FHE_NEEDS_AVX2
#define FHE_LIST_AVX2 " avx2"
#else
#define FHE_LIST_AVX2 ""
#endif
#ifdef FHE_NEEDS_FMA
#define FHE_LIST_FMA " fma"
#else
#define FHE_LIST_FMA ""
#endif
#ifdef FHE_NEEDS_BMI2
#define FHE_LIST_BMI2 " bmi2"
#else
#define FHE_LIST_BMI2 ""
#endif
#ifdef FHE_NEEDS_AVX512F
#define FHE_LIST_AVX512F " avx512f"
#else
#define FHE_LIST_AVX512F ""
#endif
#ifdef FHE_NEEDS_AVX512DQ
#define FHE_LIST_AVX512DQ " avx512dq"
#else
#define FHE_LIST_AVX512DQ ""
#endif
#ifdef FHE_NEEDS_AVX512BW
#define FHE_LIST_AVX512BW " avx512bw"
#else
#define FHE_LIST_AVX512BW ""
#endif
#ifdef FHE_NEEDS_AVX512VL
#define FHE_LIST_AVX512VL " avx512vl"
#else
#define FHE_LIST_AVX512VL ""
#endif

static const char required[] = "" FHE_LIST_AVX2 FHE_LIST_FMA FHE_LIST_BMI2 FHE_LIST_AVX512F FHE_LIST_AVX512DQ
    FHE_LIST_AVX512BW FHE_LIST_AVX512VL;

const char *fhe_engine_target_cpu(void) { return target_cpu; }

const char *fhe_engine_required_cpu_features(void) { return required[0] ? required + 1 : required; }

// __builtin_cpu_supports takes a string literal, so each extension is its own test.
#define FHE_REQUIRE(name) \
    if (!FHE_CPU_SUPPORTS(name)) return name;

const char *fhe_engine_missing_cpu_feature(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
#ifdef FHE_NEEDS_AVX2
    FHE_REQUIRE("avx2")
#endif
#ifdef FHE_NEEDS_FMA
    FHE_REQUIRE("fma")
#endif
#ifdef FHE_NEEDS_BMI2
    FHE_REQUIRE("bmi2")
#endif
#ifdef FHE_NEEDS_AVX512F
    FHE_REQUIRE("avx512f")
#endif
#ifdef FHE_NEEDS_AVX512DQ
    FHE_REQUIRE("avx512dq")
#endif
#ifdef FHE_NEEDS_AVX512BW
    FHE_REQUIRE("avx512bw")
#endif
#ifdef FHE_NEEDS_AVX512VL
    FHE_REQUIRE("avx512vl")
#endif
#endif
    return NULL;
}

__attribute__((constructor)) static void fhe_engine_refuse_unsupported_cpu(void) {
    const char *missing = fhe_engine_missing_cpu_feature();
    if (missing == NULL) return;
    // One line, then out: nothing has run yet that would need cleaning up.
    fprintf(stderr,
            "error: this build's TFHE engine was compiled for %s (%s) and this CPU has no %s; "
            "rebuild it on this machine, or with FHE_TARGET_CPU=generic for any x86-64\n",
            target_cpu, fhe_engine_required_cpu_features(), missing);
    _exit(1);
}
