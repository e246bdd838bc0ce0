#ifndef CPU_FEATURE_GUARD_H
#define CPU_FEATURE_GUARD_H

/// The CPU the engine's Swift code was compiled for (its `-target-cpu`, "generic" for a
/// portable build) and the instruction-set extensions that choice lets the compiler use,
/// space-separated ("" for a portable build).
const char *fhe_engine_target_cpu(void);
const char *fhe_engine_required_cpu_features(void);

/// The first required extension this CPU lacks, or NULL when it has them all.
const char *fhe_engine_missing_cpu_feature(void);

#endif
