/*
 * fft_floor: a floor estimate for TFHE blind rotation on this machine (issue 15).
 *
 * A blind rotation is n CMuxes; each CMux decomposes the (k+1) polynomials of the GLWE
 * accumulator into l digits, takes every digit polynomial to the Fourier domain, multiplies
 * and accumulates against one GGSW of the bootstrapping key, and brings the (k+1) sums back.
 * This program times those steps with FFTW's patient plans for the transforms and plain C
 * loops (left to gcc's vectoriser) for everything else, so that the engine's figures can be
 * put beside what a well-tuned FFT and a straightforward multiply-accumulate reach on the same
 * machine. It is a timing model with realistic data sizes and memory traffic, not a TFHE
 * implementation: the key holds random numbers, and the modulus switch, the accumulator's
 * rotation by X^a, sample extraction and key switching are left out.
 *
 * The negacyclic product of two degree-N polynomials is done as in the engine
 * (NegacyclicFFT.swift): fold a_j + i a_{j+N/2}, twist by psi^j with psi = e^{i pi/N}, and
 * take a cyclic complex FFT of N/2 points.
 *
 * Build: gcc -std=c11 -O3 -march=native -ffp-contract=fast -fno-trapping-math fft_floor.c -lfftw3 -lm
 * (scripts/fft-floor does this). -ffp-contract=fast because ISO C mode turns contraction off,
 * and the multiply-accumulate should use fused multiply-adds where the CPU has them;
 * -fno-trapping-math because without it gcc 12 vectorises no loop that rounds with floor()
 * and converts to an integer (the unfold's rounding to the torus), nor if-converts its select.
 * The program reads no floating-point exception flags, so neither changes its results.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fftw3.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Larger keys would not say anything more about the floor and may not fit in memory. */
#define MAX_KEY_BYTES (4.0 * 1024 * 1024 * 1024)
/* Short operations are timed in batches, so that clock_gettime's own cost is negligible. */
#define BATCH 100

static const double pi = 3.14159265358979323846;

struct options {
    long n, k, N, l, base_log, iterations;
    unsigned planner;
    const char *planner_name;
    bool json;
};

/* ---------- arguments ---------- */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: fft_floor --lwe-dimension n --glwe-dimension k --polynomial-size N --levels l\n"
            "                 [--base-log B] [--iterations I] [--planner estimate|measure|patient|exhaustive] [--json]\n"
            "  n in 1...4096, k in 1...4, N a power of two in 256...16384, l in 1...16,\n"
            "  B in 1...32 with B*l <= 64 (default: the largest such B up to 23), I in 1...100000 (default 20),\n"
            "  planner patient by default.\n");
}

static void fail_argument(const char *message, const char *name, const char *value)
{
    if (value == NULL)
        fprintf(stderr, "fft_floor: %s needs a value; see --help\n", name);
    else
        fprintf(stderr, "fft_floor: %s %s (got '%s'); see --help\n", name, message, value);
    exit(2);
}

/* An integer in lo...hi; `message` (if not NULL) replaces the default complaint. */
static long parse_long(const char *name, const char *value, long lo, long hi, const char *message)
{
    if (value == NULL)
        fail_argument("", name, value);
    errno = 0;
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < lo || v > hi) {
        char range[96];
        snprintf(range, sizeof range, "must be an integer in %ld...%ld", lo, hi);
        fail_argument(message ? message : range, name, value);
    }
    return v;
}

static struct options parse_options(int argc, char **argv)
{
    struct options o = {.n = -1, .k = -1, .N = -1, .l = -1, .base_log = -1, .iterations = 20,
                        .planner = FFTW_PATIENT, .planner_name = "patient", .json = false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--json") == 0) {
            o.json = true;
            continue;
        } else if (strcmp(a, "--lwe-dimension") == 0) {
            o.n = parse_long(a, v, 1, 4096, NULL);
        } else if (strcmp(a, "--glwe-dimension") == 0) {
            o.k = parse_long(a, v, 1, 4, NULL);
        } else if (strcmp(a, "--polynomial-size") == 0) {
            static const char power[] = "must be a power of two in 256...16384";
            o.N = parse_long(a, v, 256, 16384, power);
            if ((o.N & (o.N - 1)) != 0)
                fail_argument(power, a, v);
        } else if (strcmp(a, "--levels") == 0) {
            o.l = parse_long(a, v, 1, 16, NULL);
        } else if (strcmp(a, "--base-log") == 0) {
            o.base_log = parse_long(a, v, 1, 32, NULL);
        } else if (strcmp(a, "--iterations") == 0) {
            o.iterations = parse_long(a, v, 1, 100000, NULL);
        } else if (strcmp(a, "--planner") == 0) {
            if (v == NULL)
                fail_argument("", a, v);
            static const struct { const char *name; unsigned flag; } planners[] = {
                {"estimate", FFTW_ESTIMATE}, {"measure", FFTW_MEASURE},
                {"patient", FFTW_PATIENT}, {"exhaustive", FFTW_EXHAUSTIVE}};
            bool found = false;
            for (size_t p = 0; p < sizeof planners / sizeof planners[0]; p++)
                if (strcmp(v, planners[p].name) == 0) {
                    o.planner = planners[p].flag;
                    o.planner_name = planners[p].name;
                    found = true;
                }
            if (!found)
                fail_argument("must be estimate, measure, patient or exhaustive", a, v);
        } else {
            fprintf(stderr, "fft_floor: unknown argument '%s'; see --help\n", a);
            exit(2);
        }
        i++; /* the value just read */
    }
    const char *missing = o.n < 0 ? "--lwe-dimension" : o.k < 0 ? "--glwe-dimension"
                        : o.N < 0 ? "--polynomial-size" : o.l < 0 ? "--levels" : NULL;
    if (missing) {
        fprintf(stderr, "fft_floor: %s is required; see --help\n", missing);
        exit(2);
    }
    if (o.base_log < 0) {
        o.base_log = 64 / o.l < 23 ? 64 / o.l : 23;
    } else if (o.base_log * o.l > 64) {
        fprintf(stderr, "fft_floor: --base-log times --levels must be at most 64 (got %ld x %ld)\n",
                o.base_log, o.l);
        exit(2);
    }
    double key_bytes = (double)o.n * (o.k + 1) * (o.k + 1) * o.l * (o.N / 2) * 16.0;
    if (key_bytes > MAX_KEY_BYTES) {
        fprintf(stderr, "fft_floor: the bootstrapping key would take %.1f GiB, more than the tool's 4 GiB limit\n",
                key_bytes / (1024.0 * 1024 * 1024));
        exit(2);
    }
    return o;
}

/* ---------- memory ---------- */

/* fftw_malloc aligns for FFTW's SIMD codelets, which then also suits the vectorised loops.
 * On failure it reports, clears *ok and returns NULL, so the caller can free what it has. */
static void *checked_alloc(size_t bytes, const char *what, bool *ok)
{
    void *p = fftw_malloc(bytes);
    if (p == NULL) {
        fprintf(stderr, "fft_floor: cannot allocate %zu bytes for %s\n", bytes, what);
        *ok = false;
    }
    return p;
}

/* fftw_free is not documented to accept NULL. */
static void checked_free(void *p)
{
    if (p != NULL)
        fftw_free(p);
}

/* SplitMix64: fills buffers with values that are neither zero nor subnormal. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A uniform double in [-1, 1). */
static double random_unit(uint64_t *state)
{
    return (double)(next_random(state) >> 11) * 0x1p-52 - 1.0;
}

/* ---------- the CMux's steps ---------- */

struct floor_state {
    long n, k1, N, M, l, rows, base_log;
    fftw_plan forward, inverse;
    fftw_complex *fft_in, *fft_out;    /* M points each: FFTW's interleaved layout */
    double *twist_re, *twist_im;       /* psi^j */
    double *untwist_re, *untwist_im;   /* conj(psi^j) / M: FFTW's backward transform is unscaled */
    uint64_t *glwe;                    /* the accumulator: k1 polynomials of N torus words */
    uint64_t *state;                   /* N words: the decomposition's running remainder */
    double *digits;                    /* rows x N: digit polynomials */
    double *spec_re, *spec_im;         /* rows x M: their Fourier points, split re/im */
    double *acc_re, *acc_im;           /* k1 x M: the multiply-accumulate's sums */
    double *key;                       /* n GGSWs of rows x k1 x (M re, M im) */
    size_t ggsw_doubles;
};

/*
 * Signed gadget decomposition of N torus words into l digit polynomials in [-B/2, B/2),
 * most significant level first (digits + level*N), after rounding away the bits below B*l.
 * The carry of a digit at or above B/2 is added to the remainder, so one pass per level,
 * least significant first, carries it upwards; every pass is a simple vectorisable loop.
 * Digits fit in 32 bits (B <= 32), and convert to doubles through 32-bit lanes, which AVX2
 * has (it has no 64-bit integer to double conversion).
 */
static void decompose(const uint64_t *restrict poly, long N, long base_log, long levels,
                      uint64_t *restrict state, double *restrict digits)
{
    const int shift = (int)(64 - base_log * levels);
    const uint64_t half_dropped = shift > 0 ? (uint64_t)1 << (shift - 1) : 0;
    const uint64_t mask = ((uint64_t)1 << base_log) - 1;
    for (long j = 0; j < N; j++)
        state[j] = (poly[j] + half_dropped) >> shift;
    for (long level = levels - 1; level >= 0; level--) {
        double *restrict out = digits + level * N;
        for (long j = 0; j < N; j++) {
            uint64_t d = state[j] & mask;
            uint64_t carry = d >> (base_log - 1);
            state[j] = (state[j] >> base_log) + carry;
            int64_t digit = (int64_t)d - (int64_t)(carry << base_log);
            out[j] = (double)(int32_t)digit;
        }
    }
}

/* Fold and twist N reals into FFTW's input: c_j = (a_j + i a_{j+M}) psi^j. */
static void fold_twist(const struct floor_state *f, const double *restrict poly)
{
    const long M = f->M;
    double *restrict in = (double *)f->fft_in;
    const double *restrict tr = f->twist_re, *restrict ti = f->twist_im;
    for (long j = 0; j < M; j++) {
        double a = poly[j], b = poly[j + M];
        in[2 * j] = a * tr[j] - b * ti[j];
        in[2 * j + 1] = a * ti[j] + b * tr[j];
    }
}

/* FFTW's output is interleaved; the multiply-accumulate reads split arrays. */
static void split_points(const struct floor_state *f, double *restrict re, double *restrict im)
{
    const double *restrict out = (const double *)f->fft_out;
    for (long j = 0; j < f->M; j++) {
        re[j] = out[2 * j];
        im[j] = out[2 * j + 1];
    }
}

static void merge_points(const struct floor_state *f, const double *restrict re, const double *restrict im)
{
    double *restrict in = (double *)f->fft_in;
    for (long j = 0; j < f->M; j++) {
        in[2 * j] = re[j];
        in[2 * j + 1] = im[j];
    }
}

/*
 * A double to a torus word (mod 2^64), exactly wherever the double is exact. Reducing to
 * [-2^63, 2^63] keeps small negative values exact (a reduction to [0, 2^64) would round -1 to
 * 2^64); the result then goes through two 32-bit halves, again because AVX2 converts doubles
 * to 32-bit integers in vector lanes but not to 64-bit ones.
 */
static inline uint64_t torus_from_double(double x)
{
    double r = nearbyint(x);
    double v = r - 0x1p64 * nearbyint(r * 0x1p-64);
    double hi = floor(v * 0x1p-32);            /* in [-2^31, 2^31] */
    double lo = v - hi * 0x1p32;               /* in [0, 2^32), exact */
    hi = hi >= 0x1p31 ? hi - 0x1p32 : hi;      /* 2^31 is -2^31 mod 2^32; keeps the cast defined */
    uint32_t hi32 = (uint32_t)(int32_t)hi;
    uint32_t lo32 = (uint32_t)(int32_t)(lo - 0x1p31) + 0x80000000u;
    return ((uint64_t)hi32 << 32) | lo32;
}

/* Untwist and unfold FFTW's backward output, round to the torus and add into poly. */
static void untwist_unfold_add(const struct floor_state *f, uint64_t *restrict poly)
{
    const long M = f->M;
    const double *restrict out = (const double *)f->fft_out;
    const double *restrict ur = f->untwist_re, *restrict ui = f->untwist_im;
    for (long j = 0; j < M; j++) {
        double yr = out[2 * j], yi = out[2 * j + 1];
        double a = yr * ur[j] - yi * ui[j];
        double b = yr * ui[j] + yi * ur[j];
        poly[j] += torus_from_double(a);
        poly[j + M] += torus_from_double(b);
    }
}

/*
 * The Fourier-domain product of one CMux: acc[c] = sum over rows r of digit[r] * ggsw[r][c].
 * Rows outside, columns inside, so the GGSW is read once, front to back, as it streams in;
 * the sums (k1 x M points) and the digit points stay in L1 or L2.
 */
static void multiply_accumulate(long rows, long cols, long M,
                                const double *restrict dre, const double *restrict dim,
                                const double *restrict ggsw,
                                double *restrict acc_re, double *restrict acc_im)
{
    for (long r = 0; r < rows; r++) {
        const double *restrict xr = dre + r * M, *restrict xi = dim + r * M;
        for (long c = 0; c < cols; c++) {
            const double *restrict gr = ggsw + (r * cols + c) * 2 * M, *restrict gi = gr + M;
            double *restrict ar = acc_re + c * M, *restrict ai = acc_im + c * M;
            if (r == 0) {
                for (long j = 0; j < M; j++) {
                    ar[j] = xr[j] * gr[j] - xi[j] * gi[j];
                    ai[j] = xr[j] * gi[j] + xi[j] * gr[j];
                }
            } else {
                for (long j = 0; j < M; j++) {
                    ar[j] += xr[j] * gr[j] - xi[j] * gi[j];
                    ai[j] += xr[j] * gi[j] + xi[j] * gr[j];
                }
            }
        }
    }
}

static void forward_digit(const struct floor_state *f, long row)
{
    fold_twist(f, f->digits + row * f->N);
    fftw_execute_dft(f->forward, f->fft_in, f->fft_out);
    split_points(f, f->spec_re + row * f->M, f->spec_im + row * f->M);
}

/* One CMux floor against one GGSW, the accumulator updated in place. */
static void cmux(const struct floor_state *f, const double *ggsw)
{
    for (long p = 0; p < f->k1; p++)
        decompose(f->glwe + p * f->N, f->N, f->base_log, f->l, f->state, f->digits + p * f->l * f->N);
    for (long row = 0; row < f->rows; row++)
        forward_digit(f, row);
    multiply_accumulate(f->rows, f->k1, f->M, f->spec_re, f->spec_im, ggsw, f->acc_re, f->acc_im);
    for (long c = 0; c < f->k1; c++) {
        merge_points(f, f->acc_re + c * f->M, f->acc_im + c * f->M);
        fftw_execute_dft(f->inverse, f->fft_in, f->fft_out);
        untwist_unfold_add(f, f->glwe + c * f->N);
    }
}

/*
 * The transforms and the multiply-accumulate of one CMux alone, without the decomposition,
 * fold and unfold loops around them: the estimate as issue 15 words it ("FFTW plus a plain C
 * multiply-accumulate"), kept beside the full floor to show what those loops add.
 */
static void transforms_and_mac(const struct floor_state *f, const double *ggsw)
{
    for (long row = 0; row < f->rows; row++)
        fftw_execute_dft(f->forward, f->fft_in, f->fft_out);
    multiply_accumulate(f->rows, f->k1, f->M, f->spec_re, f->spec_im, ggsw, f->acc_re, f->acc_im);
    for (long c = 0; c < f->k1; c++)
        fftw_execute_dft(f->inverse, f->fft_in, f->fft_out);
}

/* ---------- a check that the pipeline computes negacyclic products ---------- */

/*
 * Multiplies two random polynomials with small integer coefficients through the timed code
 * (fold, FFTW, multiply-accumulate with one row and one column, unfold) and compares with the
 * schoolbook product mod X^N + 1; also rounds a few large values to the torus and recomposes a
 * decomposition. Returns false on a mismatch.
 */
static bool self_check(struct floor_state *f)
{
    const long N = f->N, M = f->M;
    uint64_t seed = 12345;
    double *a = f->digits, *b = f->digits + N; /* rows >= 2 since k1 >= 2 */
    for (long j = 0; j < N; j++) {
        a[j] = (double)(int)(next_random(&seed) % 2001) - 1000;
        b[j] = (double)(int)(next_random(&seed) % 2001) - 1000;
    }
    double *bre = f->acc_re, *bim = f->acc_im; /* b's points stand in for a one-entry GGSW */
    bool ok = true;
    double *ggsw = checked_alloc(2 * (size_t)M * sizeof(double), "the self-check", &ok);
    if (!ok)
        return false;
    fold_twist(f, b);
    fftw_execute_dft(f->forward, f->fft_in, f->fft_out);
    split_points(f, ggsw, ggsw + M);
    fold_twist(f, a);
    fftw_execute_dft(f->forward, f->fft_in, f->fft_out);
    split_points(f, f->spec_re, f->spec_im);
    multiply_accumulate(1, 1, M, f->spec_re, f->spec_im, ggsw, bre, bim);
    merge_points(f, bre, bim);
    fftw_execute_dft(f->inverse, f->fft_in, f->fft_out);
    uint64_t *product = f->glwe;
    memset(product, 0, (size_t)N * sizeof(uint64_t));
    untwist_unfold_add(f, product);
    for (long i = 0; i < N && ok; i++) {
        int64_t expected = 0;
        for (long j = 0; j < N; j++) {
            long t = i - j;
            int64_t term = (int64_t)a[j] * (int64_t)b[t >= 0 ? t : t + N];
            expected += t >= 0 ? term : -term;
        }
        if ((int64_t)product[i] != expected) {
            fprintf(stderr, "fft_floor: self-check failed: coefficient %ld of the product is %lld, expected %lld\n",
                    i, (long long)(int64_t)product[i], (long long)expected);
            ok = false;
        }
    }
    fftw_free(ggsw);
    if (!ok)
        return false;

    /* Rounding to the torus, on values the product above does not reach. */
    static const struct { double x; uint64_t word; } cases[] = {
        {-1.0, UINT64_MAX}, {-0.4, 0}, {2.5, 2}, {0x1p63, UINT64_C(1) << 63}, {-0x1p63, UINT64_C(1) << 63},
        {0x1p64 * 3 + 0x1p40, UINT64_C(1) << 40}, {-0x1p64 * 5 - 7.0 * 0x1p32, (uint64_t)0 - (UINT64_C(7) << 32)},
        {0x1p52 + 1, (UINT64_C(1) << 52) + 1}, {-0x1p52 - 3, (uint64_t)0 - (UINT64_C(1) << 52) - 3}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        if (torus_from_double(cases[c].x) != cases[c].word) {
            fprintf(stderr, "fft_floor: self-check failed: %a rounds to the torus word %llu, expected %llu\n",
                    cases[c].x, (unsigned long long)torus_from_double(cases[c].x),
                    (unsigned long long)cases[c].word);
            return false;
        }

    /* Decomposition: sum of digits times q/B^(level+1) is within half a dropped unit. */
    for (long j = 0; j < N; j++)
        f->glwe[j] = next_random(&seed);
    decompose(f->glwe, N, f->base_log, f->l, f->state, f->digits);
    const long shift = 64 - f->base_log * f->l;
    for (long j = 0; j < N && ok; j++) {
        uint64_t sum = 0;
        for (long level = 0; level < f->l; level++) {
            double d = f->digits[level * N + j];
            if (d < -ldexp(1, (int)f->base_log - 1) || d >= ldexp(1, (int)f->base_log - 1))
                ok = false;
            sum += (uint64_t)(int64_t)d << (64 - f->base_log * (level + 1));
        }
        uint64_t error = f->glwe[j] - sum;
        int64_t signed_error = (int64_t)error;
        if (shift == 0 ? error != 0 : (signed_error > (INT64_C(1) << (shift - 1)) ||
                                       signed_error < -(INT64_C(1) << (shift - 1)))) {
            ok = false;
        }
        if (!ok)
            fprintf(stderr, "fft_floor: self-check failed: the decomposition of word %ld does not recompose\n", j);
    }
    return ok;
}

/* ---------- timing ---------- */

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

enum step { FFT_FORWARD, FFT_INVERSE, FOLD, UNFOLD, DECOMPOSE, MAC, CMUX_CACHED, CMUX_STREAMED, FFT_MAC_STREAMED };

/* Runs `count` repetitions of one step. */
static void run_step(struct floor_state *f, enum step s, long count)
{
    for (long i = 0; i < count; i++) {
        switch (s) {
        case FFT_FORWARD: fftw_execute_dft(f->forward, f->fft_in, f->fft_out); break;
        case FFT_INVERSE: fftw_execute_dft(f->inverse, f->fft_in, f->fft_out); break;
        case FOLD:
            fold_twist(f, f->digits);
            split_points(f, f->spec_re, f->spec_im);
            break;
        case UNFOLD:
            merge_points(f, f->acc_re, f->acc_im);
            untwist_unfold_add(f, f->glwe);
            break;
        case DECOMPOSE: decompose(f->glwe, f->N, f->base_log, f->l, f->state, f->digits); break;
        case MAC:
            multiply_accumulate(f->rows, f->k1, f->M, f->spec_re, f->spec_im, f->key, f->acc_re, f->acc_im);
            break;
        case CMUX_CACHED: cmux(f, f->key); break;
        case CMUX_STREAMED: cmux(f, f->key + (size_t)(i % f->n) * f->ggsw_doubles); break;
        case FFT_MAC_STREAMED: transforms_and_mac(f, f->key + (size_t)(i % f->n) * f->ggsw_doubles); break;
        }
    }
}

/*
 * Median over `iterations` samples of `count` repetitions each, per repetition, in seconds.
 * One sample first as a warm-up (caches, page faults, the CPU's clock).
 */
static double median_seconds(struct floor_state *f, enum step s, long count, long iterations, double *samples)
{
    run_step(f, s, count);
    for (long i = 0; i < iterations; i++) {
        double start = now_seconds();
        run_step(f, s, count);
        samples[i] = (now_seconds() - start) / (double)count;
    }
    qsort(samples, (size_t)iterations, sizeof(double), compare_doubles);
    long h = iterations / 2;
    return iterations % 2 ? samples[h] : 0.5 * (samples[h - 1] + samples[h]);
}

/* ---------- the machine ---------- */

struct cpu { char model[256]; bool known_flags, avx512f, avx2, fma; };

static bool has_flag(const char *flags, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = flags; (p = strstr(p, name)) != NULL; p += len) {
        bool starts = p == flags || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ':';
        bool ends = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';
        if (starts && ends)
            return true;
    }
    return false;
}

static struct cpu read_cpu(void)
{
    struct cpu c = {.model = "unknown"};
    FILE *in = fopen("/proc/cpuinfo", "r");
    if (in == NULL)
        return c;
    char line[8192];
    bool have_model = false;
    while (fgets(line, sizeof line, in) != NULL && !(have_model && c.known_flags)) {
        char *colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        value[strcspn(value, "\n")] = '\0';
        if (!have_model && strncmp(line, "model name", 10) == 0) {
            snprintf(c.model, sizeof c.model, "%s", value);
            have_model = true;
        } else if (!c.known_flags && strncmp(line, "flags", 5) == 0) {
            c.known_flags = true;
            c.avx512f = has_flag(value, "avx512f");
            c.avx2 = has_flag(value, "avx2");
            c.fma = has_flag(value, "fma");
        }
    }
    fclose(in);
    return c;
}

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static const char *flag_json(const struct cpu *c, bool v)
{
    return !c->known_flags ? "null" : v ? "true" : "false";
}

static const char *flag_text(const struct cpu *c, bool v)
{
    return !c->known_flags ? "?" : v ? "yes" : "no";
}

/* ---------- main ---------- */

int main(int argc, char **argv)
{
    struct options o = parse_options(argc, argv);
    struct cpu cpu = read_cpu();

    struct floor_state f = {.n = o.n, .k1 = o.k + 1, .N = o.N, .M = o.N / 2, .l = o.l,
                            .base_log = o.base_log};
    f.rows = f.k1 * f.l;
    f.ggsw_doubles = (size_t)f.rows * f.k1 * 2 * f.M;
    const size_t d = sizeof(double);
    const size_t key_bytes = f.ggsw_doubles * (size_t)f.n * d;

    int status = 0;
    bool ok = true;
    double *samples = NULL;
    f.fft_in = checked_alloc((size_t)f.M * sizeof(fftw_complex), "the FFT input", &ok);
    f.fft_out = checked_alloc((size_t)f.M * sizeof(fftw_complex), "the FFT output", &ok);
    if (!ok) {
        status = 1;
        goto done;
    }
    /* Plans first: patient planning overwrites the arrays it measures with. */
    double plan_start = now_seconds();
    f.forward = fftw_plan_dft_1d((int)f.M, f.fft_in, f.fft_out, FFTW_FORWARD, o.planner);
    f.inverse = fftw_plan_dft_1d((int)f.M, f.fft_in, f.fft_out, FFTW_BACKWARD, o.planner);
    double planning_seconds = now_seconds() - plan_start;
    if (f.forward == NULL || f.inverse == NULL) {
        fprintf(stderr, "fft_floor: FFTW could not plan a %ld-point transform\n", f.M);
        status = 1;
        goto done;
    }

    f.twist_re = checked_alloc((size_t)f.M * d, "the twist", &ok);
    f.twist_im = checked_alloc((size_t)f.M * d, "the twist", &ok);
    f.untwist_re = checked_alloc((size_t)f.M * d, "the untwist", &ok);
    f.untwist_im = checked_alloc((size_t)f.M * d, "the untwist", &ok);
    f.glwe = checked_alloc((size_t)f.k1 * f.N * sizeof(uint64_t), "the accumulator", &ok);
    f.state = checked_alloc((size_t)f.N * sizeof(uint64_t), "the decomposition", &ok);
    f.digits = checked_alloc((size_t)f.rows * f.N * d, "the digits", &ok);
    f.spec_re = checked_alloc((size_t)f.rows * f.M * d, "the digits' points", &ok);
    f.spec_im = checked_alloc((size_t)f.rows * f.M * d, "the digits' points", &ok);
    f.acc_re = checked_alloc((size_t)f.k1 * f.M * d, "the sums", &ok);
    f.acc_im = checked_alloc((size_t)f.k1 * f.M * d, "the sums", &ok);
    f.key = checked_alloc(key_bytes, "the bootstrapping key", &ok);
    samples = checked_alloc((size_t)o.iterations * d, "the samples", &ok);
    if (!ok) {
        status = 1;
        goto done;
    }

    for (long j = 0; j < f.M; j++) {
        double angle = pi * (double)j / (double)f.N;
        f.twist_re[j] = cos(angle);
        f.twist_im[j] = sin(angle);
        f.untwist_re[j] = cos(angle) / (double)f.M;
        f.untwist_im[j] = -sin(angle) / (double)f.M;
    }

    if (!self_check(&f)) {
        status = 1;
        goto done;
    }

    /* Realistic magnitudes: key points of torus-sized values, accumulator of random words.
     * Writing the whole key also faults its pages in before any timing. */
    uint64_t seed = 2024;
    for (size_t i = 0; i < f.ggsw_doubles * (size_t)f.n; i++)
        f.key[i] = random_unit(&seed) * 0x1p63;
    for (long i = 0; i < f.k1 * f.N; i++)
        f.glwe[i] = next_random(&seed);
    for (long i = 0; i < f.M; i++) {
        f.fft_in[i][0] = random_unit(&seed);
        f.fft_in[i][1] = random_unit(&seed);
    }
    decompose(f.glwe, f.N, f.base_log, f.l, f.state, f.digits);
    for (long i = 0; i < f.rows * f.M; i++) {
        f.spec_re[i] = random_unit(&seed) * 0x1p30;
        f.spec_im[i] = random_unit(&seed) * 0x1p30;
    }
    for (long i = 0; i < f.k1 * f.M; i++) {
        f.acc_re[i] = random_unit(&seed) * 0x1p90;
        f.acc_im[i] = random_unit(&seed) * 0x1p90;
    }

    const long I = o.iterations;
    double fwd = median_seconds(&f, FFT_FORWARD, BATCH, I, samples);
    double inv = median_seconds(&f, FFT_INVERSE, BATCH, I, samples);
    double fold = median_seconds(&f, FOLD, BATCH, I, samples);
    double unfold = median_seconds(&f, UNFOLD, BATCH, I, samples);
    double decomp = median_seconds(&f, DECOMPOSE, BATCH, I, samples);
    double mac = median_seconds(&f, MAC, BATCH, I, samples);
    /* n CMuxes per sample in both modes: one blind rotation's worth of work. */
    double cmux_cached = median_seconds(&f, CMUX_CACHED, f.n, I, samples);
    double cmux_streamed = median_seconds(&f, CMUX_STREAMED, f.n, I, samples);
    double rotation = cmux_streamed * (double)f.n;
    double fft_mac = median_seconds(&f, FFT_MAC_STREAMED, f.n, I, samples);

    if (o.json) {
        printf("{\"tool\":\"fft_floor\",\"fftw\":");
        print_json_string(fftw_version);
        printf(",\"planner\":\"%s\",\"cpu_model\":", o.planner_name);
        print_json_string(cpu.model);
        printf(",\"avx512f\":%s,\"avx2\":%s,\"fma\":%s", flag_json(&cpu, cpu.avx512f),
               flag_json(&cpu, cpu.avx2), flag_json(&cpu, cpu.fma));
        printf(",\"lwe_dimension\":%ld,\"glwe_dimension\":%ld,\"polynomial_size\":%ld,\"levels\":%ld,"
               "\"base_log\":%ld,\"iterations\":%ld,\"bootstrapping_key_bytes\":%zu,\"ggsw_bytes\":%zu,"
               "\"planning_seconds\":%.3f",
               o.n, o.k, o.N, o.l, o.base_log, I, key_bytes, f.ggsw_doubles * d, planning_seconds);
        printf(",\"fft_forward_us\":%.4f,\"fft_inverse_us\":%.4f,\"fold_twist_us\":%.4f,\"untwist_unfold_us\":%.4f,"
               "\"decomposition_us\":%.4f,\"multiply_accumulate_cached_us\":%.4f,"
               "\"cmux_cached_us\":%.4f,\"cmux_streamed_us\":%.4f,\"blind_rotation_ms\":%.4f,"
               "\"ffts_and_mac_streamed_us\":%.4f,\"blind_rotation_ffts_and_mac_ms\":%.4f}\n",
               fwd * 1e6, inv * 1e6, fold * 1e6, unfold * 1e6, decomp * 1e6, mac * 1e6,
               cmux_cached * 1e6, cmux_streamed * 1e6, rotation * 1e3, fft_mac * 1e6, fft_mac * (double)f.n * 1e3);
    } else {
        printf("fft_floor: FFTW %s, %s plans, one thread, median of %ld\n", fftw_version, o.planner_name, I);
        printf("CPU: %s (avx2 %s, fma %s, avx512f %s)\n", cpu.model, flag_text(&cpu, cpu.avx2),
               flag_text(&cpu, cpu.fma), flag_text(&cpu, cpu.avx512f));
        printf("n=%ld k=%ld N=%ld l=%ld base_log=%ld; bootstrapping key %.1f MB, one GGSW %.1f KB\n",
               o.n, o.k, o.N, o.l, o.base_log, key_bytes / 1e6, f.ggsw_doubles * d / 1e3);
        printf("  %-48s %10.3f us\n", "FFT forward, N/2 complex points", fwd * 1e6);
        printf("  %-48s %10.3f us\n", "FFT inverse, N/2 complex points", inv * 1e6);
        printf("  %-48s %10.3f us\n", "fold + twist, one polynomial", fold * 1e6);
        printf("  %-48s %10.3f us\n", "untwist + unfold to the torus, one polynomial", unfold * 1e6);
        printf("  %-48s %10.3f us\n", "decomposition, one polynomial into l digits", decomp * 1e6);
        printf("  %-48s %10.3f us\n", "multiply-accumulate, one GGSW in cache", mac * 1e6);
        printf("  %-48s %10.3f us\n", "CMux floor, key in cache (one GGSW)", cmux_cached * 1e6);
        printf("  %-48s %10.3f us\n", "CMux floor, key streamed (all n GGSWs)", cmux_streamed * 1e6);
        printf("  %-48s %10.3f ms\n", "blind rotation floor, n x streamed CMux", rotation * 1e3);
        printf("  %-48s %10.3f us\n", "FFTs + multiply-accumulate alone, key streamed", fft_mac * 1e6);
        printf("  %-48s %10.3f ms\n", "n x that (no decomposition, fold, unfold)", fft_mac * (double)f.n * 1e3);
    }

done:
    if (f.forward != NULL)
        fftw_destroy_plan(f.forward);
    if (f.inverse != NULL)
        fftw_destroy_plan(f.inverse);
    void *buffers[] = {f.fft_in, f.fft_out, f.twist_re, f.twist_im, f.untwist_re, f.untwist_im, f.glwe,
                       f.state, f.digits, f.spec_re, f.spec_im, f.acc_re, f.acc_im, f.key, samples};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        checked_free(buffers[i]);
    fftw_cleanup();
    return status;
}
