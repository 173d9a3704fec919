// SDEKit's vector kernels, as Swift sees them.
//
// The kernels themselves (Kernels/*.h) are compiled once per instruction-set level — on x86-64
// AVX-512, AVX2 with FMA, and the baseline; elsewhere the baseline alone — and one level is
// chosen once per process from what the CPU reports (Dispatch.c), or forced by the environment
// variable SDEKIT_ISA=baseline|avx2|avx512. So a plain `swift build -c release`, and every
// package that depends on SDEKit, runs the same code as a `-target-cpu native` build. Every
// result is exact (integer arithmetic, a comparison, a choice, a lookup, a move) or one correctly
// rounded IEEE operation (a fused multiply–add only where written as one), so every level gives
// the same bits.
//
// What is declared here is either an entry point that goes through the chosen level, or a small
// static inline helper made only of moves and shuffles (exact at any target). Entry points take
// vectors through pointers (read and written as unaligned unless said otherwise): a 512-bit vector
// passed by value has a different calling convention in code built for AVX-512 and in code that
// is not, and the Swift caller, this target and each level's copy may each be built differently. The static inline wrappers below keep the by-value
// forms Swift code already calls. Swift imports double8 as SIMD8<Double>.
#ifndef CSIMDMATH_H
#define CSIMDMATH_H

// The static inline helpers hand 512-bit vectors to each other, always inlined: clang's warning
// about that calling convention on CPUs without AVX-512 does not apply.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
// A multiply and an add fuse only where written as fma: clang would otherwise fuse a*b + c on
// CPUs with the instruction and not elsewhere, and the bits must not depend on the build.
#pragma STDC FP_CONTRACT OFF

typedef double sdekit_double8 __attribute__((ext_vector_type(8)));
typedef long long sdekit_long8 __attribute__((ext_vector_type(8)));
typedef unsigned long long sdekit_ulong8 __attribute__((ext_vector_type(8)));
/// The same vector type, at an address aligned only as a double is (Swift's buffers of
/// SIMD8<Double> promise 16 bytes, not the 64 that sdekit_double8 assumes).
typedef double sdekit_double8_unaligned __attribute__((ext_vector_type(8), aligned(8)));

/// The bits of a ziggurat word that choose its layer (Ziggurat.swift): 1024 layers.
#define SDEKIT_ZIGGURAT_LAYER_BITS 10

// MARK: - Instruction-set levels

/// The levels, in increasing order of what they need.
enum {
  SDEKIT_LEVEL_BASELINE = 0,  ///< what every CPU of the architecture has (x86-64: SSE2; arm64: NEON)
  SDEKIT_LEVEL_AVX2 = 1,      ///< x86-64 with AVX2 and FMA (Haswell, Zen 1 and later)
  SDEKIT_LEVEL_AVX512 = 2,    ///< x86-64 with AVX-512 F, DQ and VL as well (Skylake-SP, Zen 4 and later)
  SDEKIT_LEVEL_COUNT = 3
};

/// The level the kernels run at in this process: chosen at the first kernel call from what the
/// CPU reports, or from SDEKIT_ISA. A value of SDEKIT_ISA that names no level, or a level this
/// CPU cannot run, ends the process with a message on stderr (exit status 2): a forced level is
/// a request to measure or test that level, and running another one instead would mislabel it.
int sdekit_level_current(void);

/// Whether this CPU (and the system, which must save the wider registers) can run `level`.
int sdekit_level_supported(int level);

/// The level's name as SDEKIT_ISA spells it ("baseline", "avx2", "avx512"), or NULL.
const char *sdekit_level_name(int level);

/// Switches every kernel to `level` from now on; returns 0 (and changes nothing) when the CPU
/// cannot run it. For tests and benchmarks that compare levels within one process: the bits are
/// the same on every level, so callers running at the time are not disturbed.
int sdekit_level_select(int level);

// MARK: - Entry points (through the chosen level)

/// Philox4x32-10 on eight counters (c0, c1, c2[ℓ], c3[ℓ]) under the key (k0, k1): word j of
/// block ℓ in lane ℓ of words[j].
void sdekit_philox8_at(unsigned c0, unsigned c1, const sdekit_ulong8 *c2, const sdekit_ulong8 *c3, unsigned k0,
                       unsigned k1, sdekit_ulong8 *words);

/// The ziggurat's candidates for eight 32-bit words (in 64-bit lanes) to *values; *rejected gets
/// bit ℓ set for each lane ℓ whose candidate is not accepted at once. See Kernels/Ziggurat.h.
void sdekit_ziggurat_candidates8_at(const sdekit_ulong8 *words, const double *layers, sdekit_double8 *values,
                                    int *rejected);

/// The candidates of indices 0 ..< count of one group of eight quads (Kernels/Ziggurat.h):
/// index i's Philox blocks at counters (i, c1, c2[ℓ], c3[ℓ]), its 32 candidates at values[32i …]
/// in row order, its words at words[4i …], its rejected lanes at rejections[i]; returns the OR
/// of the rejections. `values` and `words` start on 64-byte boundaries.
unsigned sdekit_normal_candidates_at(long count, unsigned c1, const sdekit_ulong8 *c2, const sdekit_ulong8 *c3,
                                     unsigned k0, unsigned k1, const double *layers, double *values,
                                     sdekit_ulong8 *words, unsigned *rejections);

/// A whole group of 32 rows of `count` normal numbers each, from the group's columns (number i of
/// row o at columns[32i + o], 64-byte aligned) to rows: out[o·count + i] = scale · columns[32i + o].
void sdekit_normal_group_rows(const double *columns, long count, double scale, double *out);

/// eˣ on eight lanes (VectorMath.exp documents the method and the error).
void sdekit_exp8_at(const sdekit_double8 *x, sdekit_double8 *y);

/// terms[k] ← exp(terms[k] − largest) for k < count, each a vector of eight lanes (terms at
/// 8k ..< 8k + 8, 64-byte aligned; largest and total eight values anywhere), and their sum in k
/// order to total.
void sdekit_exponentials(double *terms, long count, const double *largest, double *total);

/// The score of `blocks` blocks of eight rows of two values under a mixture of isotropic
/// components that share one variance, or c·x + b·score with `combine` (Kernels/Mixture.h).
/// `terms` is scratch for `components` vectors, 64-byte aligned.
void sdekit_shared_mixture_scores2(long blocks, const double *rows, long components, const double *bias,
                                   const double *scaledCentres, const double *centres,
                                   const double *inverseVariance, int combine, double xCoefficient,
                                   double scoreCoefficient, sdekit_double8 *terms, double *out);

/// The same for rows of d values (d and the number of components multiples of eight), with
/// aμ_kj/v at scaledCentresByCoordinate[j·K + k] (Kernels/Mixture.h).
void sdekit_shared_mixture_scores_wide(long blocks, const double *rows, long dimension, long components,
                                       const double *bias, const double *scaledCentresByCoordinate,
                                       const double *centres, const double *inverseVariance, int combine,
                                       double xCoefficient, double scoreCoefficient, sdekit_double8 *terms,
                                       double *out);

/// The score of eight rows of two values under a mixture whose isotropic components share one
/// variance, with its divergence and, when `tangents` is not NULL, its Jacobian times one tangent
/// per row: GaussianMixture.sharedVarianceBlock's arithmetic for d = 2, in its order (so the same
/// bits; Kernels/MixtureDerivatives.h). `terms` is scratch for `components` vectors, 64-byte
/// aligned; rows, tangents, score and products in row order, eight divergences.
void sdekit_shared_mixture_derivatives2(const double *rows, long components, const double *bias,
                                        const double *scaledCentres, const double *centres, double precision,
                                        const double *tangents, sdekit_double8 *terms, double *score,
                                        double *divergence, double *products);

/// x[e] ← x[e] + (h·f[e] + g·dW[e]) for e < n: the Euler–Maruyama update with additive noise.
void sdekit_euler_maruyama_additive(long n, double *x, double h, const double *f, double g, const double *dW);

/// x[e] ← x[e] + (h·f[e] + g[e]·dW[e]) for e < n: the same with one g per element.
void sdekit_euler_maruyama_diagonal(long n, double *x, double h, const double *f, const double *g,
                                    const double *dW);

/// out[e] = base[e] + Σ_t terms (base NULL: zero) for e < n, term t being
/// coefficients[t]·values[t][e], or (coefficients[t]·values[t][e])·factors[t][e] where
/// factors[t] is not NULL; the terms are added in order (Kernels/Updates.h says how they share
/// passes over memory). `factors` may itself be NULL.
void sdekit_stage_sum(long n, double *out, const double *base, long count, const double *coefficients,
                      const double *const *values, const double *const *factors);

/// I₍₁,₁₎ = ½(ΔW² − absH) to i11 and I₍₁,₁,₁₎ = ΔW(ΔW² − 3·absH)/6 to i111, for e < n.
void sdekit_srk_integrals(long n, const double *dW, double absH, double *i11, double *i111);

/// x[e] ← x[e] + g[e]·(b1·dW[e] + b2·i11[e] + b3·dZ[e] + b4·i111[e]) for e < n, the four terms
/// added left to right: one stage's diffusion in a stochastic Runge–Kutta update.
void sdekit_srk_diffusion_update(long n, double *x, const double *g, double b1, const double *dW, double b2,
                                 const double *i11, double b3, const double *dZ, double b4, const double *i111);

/// The index of the first NaN or infinity among values[0 ..< n], or −1.
long sdekit_first_nonfinite(const double *values, long n);

/// One dense layer of a network in single precision over `rows` rows:
/// out[r·ldo + o] = act(Σ_k x[r·ldx + k]·w[k·ldw + o] + bias[o]) for o < width and k < inputs, the
/// sum in k order by fused multiply–adds (the same bits on every level and machine), act SiLU when
/// `silu`, else the identity. w holds the weights by input (w[k·ldw + o] = W_ok); `width` is the
/// number of outputs rounded up to a multiple of 16, with zero weights and biases past the real
/// outputs (Kernels/Network.h).
void sdekit_dense_f32(long rows, long inputs, long width, const float *x, long ldx, const float *w, long ldw,
                      const float *bias, int silu, float *out, long ldo);

/// z ← z + bias along each row of `width` values (bias NULL: no addition), then z·σ(z) when
/// `silu`, for `count` values (VectorMath.exp's single-precision SiLU).
void sdekit_bias_silu_f32(float *z, long count, const float *bias, long width, int silu);

// MARK: - By-value forms (inlined into the caller; they only pass addresses on)

static inline __attribute__((always_inline)) void sdekit_philox8(unsigned c0, unsigned c1, sdekit_ulong8 c2,
                                                                 sdekit_ulong8 c3, unsigned k0, unsigned k1,
                                                                 sdekit_ulong8 *words) {
  sdekit_philox8_at(c0, c1, &c2, &c3, k0, k1, words);
}

static inline __attribute__((always_inline)) sdekit_double8 sdekit_ziggurat_candidates8(sdekit_ulong8 words,
                                                                                        const double *layers,
                                                                                        int *rejected) {
  sdekit_double8 values;
  sdekit_ziggurat_candidates8_at(&words, layers, &values, rejected);
  return values;
}

static inline __attribute__((always_inline)) unsigned sdekit_normal_candidates(
    long count, unsigned c1, sdekit_ulong8 c2, sdekit_ulong8 c3, unsigned k0, unsigned k1, const double *layers,
    double *values, sdekit_ulong8 *words, unsigned *rejections) {
  return sdekit_normal_candidates_at(count, c1, &c2, &c3, k0, k1, layers, values, words, rejections);
}

static inline __attribute__((always_inline)) sdekit_double8 sdekit_exp8(sdekit_double8 x) {
  sdekit_double8 y;
  sdekit_exp8_at(&x, &y);
  return y;
}

// MARK: - Exact helpers, inlined at the caller's target

/// The lanes of b where b > a, else those of a (ties and NaNs keep a).
static inline __attribute__((always_inline)) sdekit_double8 sdekit_select_greater8(sdekit_double8 a,
                                                                                    sdekit_double8 b) {
  return b > a ? b : a;
}

/// Rows of two values from two columns: a₀ b₀ a₁ b₁ … a₇ b₇ written to out[0 ..< 16].
static inline __attribute__((always_inline)) void sdekit_interleave2(sdekit_double8 a, sdekit_double8 b,
                                                                     double *out) {
  *(sdekit_double8_unaligned *)out = __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
  *(sdekit_double8_unaligned *)(out + 8) = __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
}

/// The first column of eight rows of two values at `rows` (rows[0], rows[2], …, rows[14]).
static inline __attribute__((always_inline)) sdekit_double8 sdekit_first_of_pairs(const double *rows) {
  sdekit_double8 low = *(const sdekit_double8_unaligned *)rows, high = *(const sdekit_double8_unaligned *)(rows + 8);
  return __builtin_shufflevector(low, high, 0, 2, 4, 6, 8, 10, 12, 14);
}

/// The second column of eight rows of two values at `rows` (rows[1], rows[3], …, rows[15]).
static inline __attribute__((always_inline)) sdekit_double8 sdekit_second_of_pairs(const double *rows) {
  sdekit_double8 low = *(const sdekit_double8_unaligned *)rows, high = *(const sdekit_double8_unaligned *)(rows + 8);
  return __builtin_shufflevector(low, high, 1, 3, 5, 7, 9, 11, 13, 15);
}

/// An 8 × 8 block transposed and scaled: out[c·outStride + r] = scale · in[r·inStride + c] for
/// r, c < 8. Eight vector loads, 24 shuffles and eight vector stores, where element by element
/// it took a load, a multiply and a store per value. Either side may be unaligned.
static inline __attribute__((always_inline)) void sdekit_transpose8(const double *in, long inStride, double scale,
                                                                    double *out, long outStride) {
  sdekit_double8 a[8], t[8], u[8];
  for (int r = 0; r < 8; r++) a[r] = scale * *(const sdekit_double8_unaligned *)(in + r * inStride);
  for (int r = 0; r < 8; r += 2) {
    t[r] = __builtin_shufflevector(a[r], a[r + 1], 0, 8, 2, 10, 4, 12, 6, 14);
    t[r + 1] = __builtin_shufflevector(a[r], a[r + 1], 1, 9, 3, 11, 5, 13, 7, 15);
  }
  for (int h = 0; h < 8; h += 4) {
    u[h] = __builtin_shufflevector(t[h], t[h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[h + 1] = __builtin_shufflevector(t[h + 1], t[h + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[h + 2] = __builtin_shufflevector(t[h], t[h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[h + 3] = __builtin_shufflevector(t[h + 1], t[h + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  // u[q] (q < 4) holds columns q and q + 4 of rows 0–3, u[q + 4] the same of rows 4–7.
  for (int q = 0; q < 4; q++) {
    *(sdekit_double8_unaligned *)(out + q * outStride) = __builtin_shufflevector(u[q], u[q + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    *(sdekit_double8_unaligned *)(out + (q + 4) * outStride) =
        __builtin_shufflevector(u[q], u[q + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

#pragma clang diagnostic pop

#endif
