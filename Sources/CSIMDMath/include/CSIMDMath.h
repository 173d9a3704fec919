// Vector primitives for SDEKit's SIMD loops that Swift's SIMD types do not compile to a few
// instructions on Linux: their lane masks (.replacing(with:where:), pointwiseMax) and lane
// shuffles go through memory one lane at a time. Clang's vector extensions compile each of these
// to a few vector instructions where the CPU has them; a few whole kernels live here too, where
// clang keeps them in full-width registers and Swift did not. Every result is exact (integer
// arithmetic, a comparison, a choice, a lookup, a move) or one correctly rounded IEEE operation
// (a fused multiply–add only where written as one), so the bits are the same on every machine.
// Swift imports double8 as SIMD8<Double>.
#ifndef CSIMDMATH_H
#define CSIMDMATH_H

// Every function here is inlined, so handing 512-bit vectors from one to another sets no calling
// convention: clang's warning about that convention on CPUs without AVX-512 does not apply.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
// A multiply and an add fuse only where written as fma: clang would otherwise fuse a*b + c on
// CPUs with the instruction and not elsewhere, and the bits must not depend on the build.
#pragma STDC FP_CONTRACT OFF

typedef double sdekit_double8 __attribute__((ext_vector_type(8)));
typedef long long sdekit_long8 __attribute__((ext_vector_type(8)));
typedef unsigned long long sdekit_ulong8 __attribute__((ext_vector_type(8)));

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

/// The lanes of b where b > a, else those of a (ties and NaNs keep a).
static inline __attribute__((always_inline)) sdekit_double8 sdekit_select_greater8(sdekit_double8 a,
                                                                                    sdekit_double8 b) {
  return b > a ? b : a;
}

/// The lanes of `value`, with 0 where x < limit.
static inline __attribute__((always_inline)) sdekit_double8 sdekit_zero_where_below8(sdekit_double8 value,
                                                                                      sdekit_double8 x,
                                                                                      sdekit_double8 limit) {
  return x < limit ? (sdekit_double8)0.0 : value;
}

/// One Philox4x32 round on eight blocks, words in the low halves of 64-bit lanes (so each
/// 32×32 → 64-bit product is one instruction). The high halves are left as they come between
/// rounds: every word next reaches a product, which reads only its low half (AVX-512's unsigned
/// 32-bit multiply, or the mask before the portable one), or the output, which clears them (with
/// AVX-512 two instructions fewer per round; W3 −2 %).
static inline __attribute__((always_inline)) void sdekit_philox_round8(sdekit_ulong8 x[4], unsigned k0, unsigned k1) {
#if defined(__AVX512F__)
  sdekit_ulong8 p0 = (sdekit_ulong8)_mm512_mul_epu32((__m512i)x[0], _mm512_set1_epi64(0xD2511F53ll));
  sdekit_ulong8 p1 = (sdekit_ulong8)_mm512_mul_epu32((__m512i)x[2], _mm512_set1_epi64(0xCD9E8D57ll));
#else
  const sdekit_ulong8 low = 0xFFFFFFFFull;
  sdekit_ulong8 p0 = (x[0] & low) * 0xD2511F53ull, p1 = (x[2] & low) * 0xCD9E8D57ull;
#endif
  x[0] = (p1 >> 32) ^ x[1] ^ (unsigned long long)k0;
  x[2] = (p0 >> 32) ^ x[3] ^ (unsigned long long)k1;
  x[1] = p1;
  x[3] = p0;
}

/// Philox4x32-10 on eight counters (c0, c1, c2[ℓ], c3[ℓ]) under the key (k0, k1): word j of
/// block ℓ in lane ℓ of words[j]. Written here rather than in Swift: compiled by clang, the
/// rounds stay in whole 512-bit registers where the CPU has them, where the same loop in Swift was
/// split into halves with shuffles between them (normals 3.9 → 3.0 ns per number on a Zen 4 core).
static inline __attribute__((always_inline)) void sdekit_philox8(unsigned c0, unsigned c1, sdekit_ulong8 c2,
                                                                 sdekit_ulong8 c3, unsigned k0, unsigned k1,
                                                                 sdekit_ulong8 *words) {
  sdekit_ulong8 x[4] = {(unsigned long long)c0, (unsigned long long)c1, c2, c3};
  for (int round = 0; round < 10; round++, k0 += 0x9E3779B9u, k1 += 0xBB67AE85u) sdekit_philox_round8(x, k0, k1);
  for (int j = 0; j < 4; j++) words[j] = x[j] & 0xFFFFFFFFull;
}

/// sdekit_philox8 for the counters (c0, …) and (c0 + 1, …) side by side, words to a[0 ..< 4] and
/// b[0 ..< 4]: each block is a chain of ten dependent rounds, and two chains interleaved keep the
/// multipliers busy where one leaves them waiting (normals 2.6 → 1.9 ns per number with the
/// copies below, two per row).
static inline __attribute__((always_inline)) void sdekit_philox8x2(unsigned c0, unsigned c1, sdekit_ulong8 c2,
                                                                   sdekit_ulong8 c3, unsigned k0, unsigned k1,
                                                                   sdekit_ulong8 *a, sdekit_ulong8 *b) {
  sdekit_ulong8 x[4] = {(unsigned long long)c0, (unsigned long long)c1, c2, c3};
  sdekit_ulong8 y[4] = {(unsigned long long)c0 + 1, (unsigned long long)c1, c2, c3};
  for (int round = 0; round < 10; round++, k0 += 0x9E3779B9u, k1 += 0xBB67AE85u) {
    sdekit_philox_round8(x, k0, k1);
    sdekit_philox_round8(y, k0, k1);
  }
  for (int j = 0; j < 4; j++) a[j] = x[j] & 0xFFFFFFFFull, b[j] = y[j] & 0xFFFFFFFFull;
}

/// 2^(j/16) for j = 0 … 15, each the double nearest to it (tools/minimax.py).
static const double sdekit_exp2_sixteenths[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};

/// 2^(j/16) in each lane, j the low four bits of that lane of `index`: one two-register
/// permutation where the CPU has AVX-512, else eight loads (the same values either way).
static inline __attribute__((always_inline)) sdekit_double8 sdekit_exp2_sixteenth8(sdekit_long8 index) {
#if defined(__AVX512F__)
  return (sdekit_double8)_mm512_permutex2var_pd(_mm512_loadu_pd(sdekit_exp2_sixteenths), (__m512i)index,
                                                _mm512_loadu_pd(sdekit_exp2_sixteenths + 8));
#else
  sdekit_long8 j = index & 15;
  const double *t = sdekit_exp2_sixteenths;
  return (sdekit_double8){t[j[0]], t[j[1]], t[j[2]], t[j[3]], t[j[4]], t[j[5]], t[j[6]], t[j[7]]};
#endif
}

/// eˣ for eight lanes (VectorMath.exp documents the method and the error). Written with fused
/// multiply–adds, which IEEE 754 rounds once, so the bits are those of exact arithmetic rounded
/// the same way on every machine; `sdekit_exp8` chooses how to get them.
static inline __attribute__((always_inline)) sdekit_double8 sdekit_exp8_body(sdekit_double8 x) {
  const sdekit_double8 low = -708.0;
  // Below −708 the argument is lifted to −708, so the exponent arithmetic stays in range, and the
  // result cleared at the end.
  sdekit_double8 clamped = sdekit_select_greater8(x, low);
  // m = 16x/ln 2 rounded to the nearest integer by adding and subtracting 1.5·2⁵²; the low bits
  // of the sum hold m in two's complement.
  sdekit_double8 shifted = __builtin_elementwise_fma(clamped, (sdekit_double8)23.083120654223414,
                                                     (sdekit_double8)6755399441055744.0);
  sdekit_double8 m = shifted - 6755399441055744.0;
  // r = x − m·ln 2/16, with ln 2/16 in a 32-bit head (m times it is exact) and a tail.
  sdekit_double8 r = __builtin_elementwise_fma(m, (sdekit_double8)-0.043321698787622154, clamped);
  r = __builtin_elementwise_fma(m, (sdekit_double8)2.625571920425678e-12, r);
  // eʳ − 1 = r + r²·p(r), p by Horner's rule: five multiply–adds and one product, where Estrin's
  // pairs took one more (the multipliers bound the whole function; eight exponentials in flight
  // hide the longer chain).
  sdekit_double8 p = __builtin_elementwise_fma(r, (sdekit_double8)0.001388859406641505, (sdekit_double8)0.008333471920757025);
  p = __builtin_elementwise_fma(r, p, (sdekit_double8)0.04166666669324991);
  p = __builtin_elementwise_fma(r, p, (sdekit_double8)0.1666666666441797);
  p = __builtin_elementwise_fma(r, p, (sdekit_double8)0.49999999999999606);
  // Added to the scale last: its rounding error is then relative to a number below 0.022.
  sdekit_double8 expm1 = __builtin_elementwise_fma(r * r, p, r);
  sdekit_long8 mBits = (sdekit_long8)shifted - 0x4338000000000000ll;
  // 2^(j/16) with n = ⌊m/16⌋ added to its exponent: a normal number for every m in range.
  sdekit_long8 table = (sdekit_long8)sdekit_exp2_sixteenth8(mBits);
  sdekit_double8 scale = (sdekit_double8)(table + (sdekit_long8)((sdekit_ulong8)(mBits >> 4) << 52));
  return sdekit_zero_where_below8(__builtin_elementwise_fma(scale, expm1, scale), x, low);
}

#if defined(__x86_64__) && !defined(__FMA__)
// Built for a CPU that may lack fused multiply–add (the default x86-64 target): the compiler would
// call libm's fma() for every lane of every one of them, eight times slower per exp. Most x86-64
// CPUs since 2013 have the instruction, so a copy compiled for it is chosen at run time; the
// other copy calls fma(), which gives the same bits without it. Vectors go through memory: the
// two copies are compiled for different registers.
static __attribute__((target("fma"), noinline)) void sdekit_exp8_hardware(const sdekit_double8 *x, sdekit_double8 *y) {
  *y = sdekit_exp8_body(*x);
}
static __attribute__((noinline)) void sdekit_exp8_software(const sdekit_double8 *x, sdekit_double8 *y) {
  *y = sdekit_exp8_body(*x);
}

#include <cpuid.h>

/// Whether the CPU has fused multiply–add and the system saves the AVX registers it uses
/// (cpuid leaf 1: FMA, OSXSAVE, AVX; XCR0: SSE and AVX state). Asked once per process.
static inline int sdekit_cpu_has_fma(void) {
  static int known = -1;
  int answer = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (answer >= 0) return answer;
  unsigned a, b, c, d;
  answer = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 12)) && (c & (1u << 27)) && (c & (1u << 28))) {
    unsigned low, high;
    __asm__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    answer = (low & 6) == 6;
  }
  __atomic_store_n(&known, answer, __ATOMIC_RELAXED);
  return answer;
}

/// eˣ for eight lanes through the copy this CPU can run.
static inline __attribute__((always_inline)) sdekit_double8 sdekit_exp8(sdekit_double8 x) {
  sdekit_double8 y;
  if (sdekit_cpu_has_fma()) sdekit_exp8_hardware(&x, &y);
  else sdekit_exp8_software(&x, &y);
  return y;
}
#else
/// eˣ for eight lanes, inlined: the build's target has fused multiply–add (or, off x86-64, the
/// compiler chooses).
static inline __attribute__((always_inline)) sdekit_double8 sdekit_exp8(sdekit_double8 x) { return sdekit_exp8_body(x); }
#endif

/// Bit ℓ set for each lane ℓ where |x| < limit does not hold.
static inline __attribute__((always_inline)) int sdekit_not_below8(sdekit_double8 x, sdekit_double8 limit) {
#if defined(__AVX512F__)
  // One comparison into a mask register, where the portable form below becomes a masked move and
  // a seven-instruction reduction.
  return (int)_mm512_cmp_pd_mask((__m512d)__builtin_elementwise_abs(x), (__m512d)limit, _CMP_NLT_UQ);
#else
  sdekit_long8 below = (sdekit_long8)(__builtin_elementwise_abs(x) < limit);
  sdekit_long8 bits = {1, 2, 4, 8, 16, 32, 64, 128};
  return (int)__builtin_reduce_or(~below & bits);
#endif
}

/// The bits of a ziggurat word that choose its layer (Ziggurat.swift): 1024 layers.
#define SDEKIT_ZIGGURAT_LAYER_BITS 10

/// table[2i] and table[2i + 1] for each lane's i in `index`: one 16-byte load per lane where
/// the CPU has AVX-512, where two tables took two loads and two inserts per lane.
static inline __attribute__((always_inline)) void sdekit_gather_pairs8(const double *table, sdekit_long8 index,
                                                                       sdekit_double8 *first, sdekit_double8 *second) {
#if defined(__AVX512F__)
  __m512d a = _mm512_castpd128_pd512(_mm_loadu_pd(table + 2 * index[0]));
  a = _mm512_insertf64x2(a, _mm_loadu_pd(table + 2 * index[1]), 1);
  a = _mm512_insertf64x2(a, _mm_loadu_pd(table + 2 * index[2]), 2);
  a = _mm512_insertf64x2(a, _mm_loadu_pd(table + 2 * index[3]), 3);
  __m512d b = _mm512_castpd128_pd512(_mm_loadu_pd(table + 2 * index[4]));
  b = _mm512_insertf64x2(b, _mm_loadu_pd(table + 2 * index[5]), 1);
  b = _mm512_insertf64x2(b, _mm_loadu_pd(table + 2 * index[6]), 2);
  b = _mm512_insertf64x2(b, _mm_loadu_pd(table + 2 * index[7]), 3);
  *first = (sdekit_double8)_mm512_permutex2var_pd(a, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), b);
  *second = (sdekit_double8)_mm512_permutex2var_pd(a, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), b);
#else
  sdekit_long8 i = 2 * index;
  *first = (sdekit_double8){table[i[0]], table[i[1]], table[i[2]], table[i[3]],
                            table[i[4]], table[i[5]], table[i[6]], table[i[7]]};
  i += 1;
  *second = (sdekit_double8){table[i[0]], table[i[1]], table[i[2]], table[i[3]],
                             table[i[4]], table[i[5]], table[i[6]], table[i[7]]};
#endif
}

/// The ziggurat's candidates for eight 32-bit words (in 64-bit lanes): layer i = w mod 1024 and
/// x = (⌊w/1024⌋ − 2²¹ + ½)·step_i; *rejected gets bit ℓ set for each lane ℓ whose candidate is
/// not accepted at once (|x| ≥ inner_i). `layers` holds (step_i, inner_i) for each i. See
/// Ziggurat.swift.
static inline __attribute__((always_inline)) sdekit_double8 sdekit_ziggurat_candidates8(
    sdekit_ulong8 words, const double *layers, int *rejected) {
  sdekit_long8 layer = (sdekit_long8)(words & ((1u << SDEKIT_ZIGGURAT_LAYER_BITS) - 1));
  // ⌊w/1024⌋ − 2²¹ + ½, exactly: the 2⁵² trick turns the 22-bit integer into a double, then the
  // offset (2⁵² + 2²¹ − ½ in one step would round to an integer).
  sdekit_ulong8 bits = (words >> SDEKIT_ZIGGURAT_LAYER_BITS) | 0x4330000000000000ull;
  sdekit_double8 lattice = ((sdekit_double8)bits - 4503599627370496.0) -
                           ((double)(1u << (31 - SDEKIT_ZIGGURAT_LAYER_BITS)) - 0.5);
  sdekit_double8 step, inner;
  sdekit_gather_pairs8(layers, layer, &step, &inner);
  sdekit_double8 x = lattice * step;
  *rejected = sdekit_not_below8(x, inner);
  return x;
}

/// The same vector type, at an address aligned only as a double is (Swift's buffers of
/// SIMD8<Double> promise 16 bytes, not the 64 that sdekit_double8 assumes).
typedef double sdekit_double8_unaligned __attribute__((ext_vector_type(8), aligned(8)));

/// a₀ b₀ c₀ d₀ a₁ b₁ c₁ d₁ … a₇ b₇ c₇ d₇ written to out[0 ..< 32]: four vectors in row order.
static inline __attribute__((always_inline)) void sdekit_interleave4(sdekit_double8 a, sdekit_double8 b,
                                                                     sdekit_double8 c, sdekit_double8 d,
                                                                     double *out) {
  sdekit_double8 abLow = __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
  sdekit_double8 abHigh = __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
  sdekit_double8 cdLow = __builtin_shufflevector(c, d, 0, 8, 1, 9, 2, 10, 3, 11);
  sdekit_double8 cdHigh = __builtin_shufflevector(c, d, 4, 12, 5, 13, 6, 14, 7, 15);
  *(sdekit_double8_unaligned *)out = __builtin_shufflevector(abLow, cdLow, 0, 1, 8, 9, 2, 3, 10, 11);
  *(sdekit_double8_unaligned *)(out + 8) = __builtin_shufflevector(abLow, cdLow, 4, 5, 12, 13, 6, 7, 14, 15);
  *(sdekit_double8_unaligned *)(out + 16) = __builtin_shufflevector(abHigh, cdHigh, 0, 1, 8, 9, 2, 3, 10, 11);
  *(sdekit_double8_unaligned *)(out + 24) = __builtin_shufflevector(abHigh, cdHigh, 4, 5, 12, 13, 6, 7, 14, 15);
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

/// One index's 32 candidates (NormalSource.generate) from its four word vectors: stored in row
/// order at values[0 ..< 32] (lane ℓ of word j is row 4ℓ + j), the words themselves at
/// words[0 ..< 4] for the rare second draws, and the rejected lanes returned (bit 8j + ℓ).
static inline __attribute__((always_inline)) unsigned sdekit_normal_candidates32(
    const sdekit_ulong8 *block, const double *layers, double *values, sdekit_ulong8 *words) {
  int r0, r1, r2, r3;
  sdekit_double8 z0 = sdekit_ziggurat_candidates8(block[0], layers, &r0);
  sdekit_double8 z1 = sdekit_ziggurat_candidates8(block[1], layers, &r1);
  sdekit_double8 z2 = sdekit_ziggurat_candidates8(block[2], layers, &r2);
  sdekit_double8 z3 = sdekit_ziggurat_candidates8(block[3], layers, &r3);
  sdekit_interleave4(z0, z1, z2, z3, values);
  for (int j = 0; j < 4; j++) words[j] = block[j];
  return (unsigned)r0 | (unsigned)r1 << 8 | (unsigned)r2 << 16 | (unsigned)r3 << 24;
}

/// The candidates of indices 0 ..< count of one group of eight quads: index i's Philox blocks at
/// counters (i, c1, c2[ℓ], c3[ℓ]) under the key (k0, k1), its candidates at values[32i …], its
/// words at words[4i …] and its rejected lanes at rejections[i]. Returns the OR of the
/// rejections. Indices go two at a time (sdekit_philox8x2).
static inline __attribute__((always_inline)) unsigned sdekit_normal_candidates(
    long count, unsigned c1, sdekit_ulong8 c2, sdekit_ulong8 c3, unsigned k0, unsigned k1, const double *layers,
    double *values, sdekit_ulong8 *words, unsigned *rejections) {
  unsigned any = 0;
  long i = 0;
  for (; i + 2 <= count; i += 2) {
    sdekit_ulong8 a[4], b[4];
    sdekit_philox8x2((unsigned)i, c1, c2, c3, k0, k1, a, b);
    rejections[i] = sdekit_normal_candidates32(a, layers, values + 32 * i, words + 4 * i);
    rejections[i + 1] = sdekit_normal_candidates32(b, layers, values + 32 * (i + 1), words + 4 * (i + 1));
    any |= rejections[i] | rejections[i + 1];
  }
  if (i < count) {
    sdekit_ulong8 a[4];
    sdekit_philox8((unsigned)i, c1, c2, c3, k0, k1, a);
    rejections[i] = sdekit_normal_candidates32(a, layers, values + 32 * i, words + 4 * i);
    any |= rejections[i];
  }
  return any;
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

/// The score of eight rows of two values under a mixture of isotropic components that share one
/// variance, or c·x + b·score with `combine`: GaussianMixture.evaluate's arithmetic for d = 2,
/// operation for operation and in the same order (so the same bits), with the block's terms in a
/// stack buffer of `components` vectors and everything else in registers. Per component k:
/// bias[k], aμ_k/v at scaledCentres[2k …], aμ_k at centres[2k …], 1/v at inverseVariance[k].
/// Rows in and out in row order.
static inline __attribute__((always_inline)) void sdekit_shared_mixture_score2(
    const double *rows, long components, const double *bias, const double *scaledCentres, const double *centres,
    const double *inverseVariance, int combine, double xCoefficient, double scoreCoefficient,
    sdekit_double8 *terms, double *out) {
  sdekit_double8 x0 = sdekit_first_of_pairs(rows), x1 = sdekit_second_of_pairs(rows);
  sdekit_double8 largest = -1.7976931348623157e308;
  for (long k = 0; k < components; k++) {
    sdekit_double8 t = bias[k];
    t = t + x0 * scaledCentres[2 * k];
    t = t + x1 * scaledCentres[2 * k + 1];
    terms[k] = t;
    largest = sdekit_select_greater8(largest, t);
  }
  sdekit_double8 total = 0.0;
  for (long k = 0; k < components; k++) {
    sdekit_double8 e = sdekit_exp8(terms[k] - largest);
    terms[k] = e;
    total = total + e;
  }
  sdekit_double8 inverseTotal = 1.0 / total;
  sdekit_double8 precision = 0.0, s0 = 0.0, s1 = 0.0;
  for (long k = 0; k < components; k++) {
    sdekit_double8 e = terms[k] * inverseVariance[k];
    precision = precision + e;
    s0 = s0 + e * centres[2 * k];
    s1 = s1 + e * centres[2 * k + 1];
  }
  sdekit_double8 score0 = (s0 - x0 * precision) * inverseTotal, score1 = (s1 - x1 * precision) * inverseTotal;
  if (combine) {
    score0 = xCoefficient * x0 + scoreCoefficient * score0;
    score1 = xCoefficient * x1 + scoreCoefficient * score1;
  }
  sdekit_interleave2(score0, score1, out);
}

/// The score of eight rows of d values (d a multiple of 8) under K isotropic components that share
/// one variance (K a multiple of 8), or c·x + b·score with `combine`: GaussianMixture.evaluate's
/// arithmetic operation for operation and in the same order (so the same bits), without moving the
/// rows in and out of column form (a fifth of gmm64d16's score). Both products take eight rows at
/// a time against one vector of the other side, each row's value a broadcast: the log-terms with
/// eight components on the lanes, then one 8 × 8 transpose turns them into columns for the
/// softmax (rows on the lanes); the weighted sum of the centres with eight coordinates on the
/// lanes. bias[k], 1/v at inverseVariance[k], aμ_k at centres[k·d …] and aμ_kj/v at
/// scaledCentresByCoordinate[j·K + k]; `terms` holds K vectors.
static inline __attribute__((always_inline)) void sdekit_shared_mixture_score_wide(
    const double *rows, long dimension, long components, const double *bias,
    const double *scaledCentresByCoordinate, const double *centres, const double *inverseVariance, int combine,
    double xCoefficient, double scoreCoefficient, sdekit_double8 *terms, double *out) {
  const long d = dimension, K = components;
  double block[64] __attribute__((aligned(64)));
  for (long k0 = 0; k0 < K; k0 += 8) {
    sdekit_double8 t[8];
    for (int r = 0; r < 8; r++) t[r] = *(const sdekit_double8_unaligned *)(bias + k0);
    for (long j = 0; j < d; j++) {
      sdekit_double8 c = *(const sdekit_double8_unaligned *)(scaledCentresByCoordinate + j * K + k0);
      for (int r = 0; r < 8; r++) t[r] = t[r] + rows[r * d + j] * c;
    }
    for (int r = 0; r < 8; r++) *(sdekit_double8 *)(block + 8 * r) = t[r];
    sdekit_transpose8(block, 8, 1.0, (double *)(terms + k0), 8);  // × 1 is exact
  }
  sdekit_double8 largest = -1.7976931348623157e308;
  for (long k = 0; k < K; k++) largest = sdekit_select_greater8(largest, terms[k]);
  sdekit_double8 total = 0.0;
  for (long k = 0; k < K; k++) {
    sdekit_double8 e = sdekit_exp8(terms[k] - largest);
    terms[k] = e;
    total = total + e;
  }
  sdekit_double8 inverseTotal = 1.0 / total, precision = 0.0;
  for (long k = 0; k < K; k++) {
    sdekit_double8 e = terms[k] * inverseVariance[k];
    terms[k] = e;
    precision = precision + e;
  }
  const double *weights = (const double *)terms;  // row r's weight of component k at 8k + r
  for (long j0 = 0; j0 < d; j0 += 8) {
    sdekit_double8 s[8];
    for (int r = 0; r < 8; r++) s[r] = 0.0;
    for (long k = 0; k < K; k++) {
      sdekit_double8 centre = *(const sdekit_double8_unaligned *)(centres + k * d + j0);
      for (int r = 0; r < 8; r++) s[r] = s[r] + weights[8 * k + r] * centre;
    }
    for (int r = 0; r < 8; r++) {
      long offset = r * d + j0;
      sdekit_double8 x = *(const sdekit_double8_unaligned *)(rows + offset);
      sdekit_double8 score = (s[r] - x * precision[r]) * inverseTotal[r];
      if (combine) score = xCoefficient * x + scoreCoefficient * score;
      *(sdekit_double8_unaligned *)(out + offset) = score;
    }
  }
}

// MARK: Likelihood (issue 22)
#include "MixtureDerivatives.h"

#pragma clang diagnostic pop

#endif
