// The exponential on eight lanes of doubles (VectorMath.exp documents the method and the error).
// Part of one level's kernels: included by Kernels.h only.

/// 2^(j/16) for j = 0 … 15, each the double nearest to it (tools/minimax.py).
static const double kernel_exp2_sixteenths[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};

/// 2^(j/16) in each lane, j the low four bits of that lane of `index`: one two-register
/// permutation with AVX-512, else eight loads (the same values either way).
static inline __attribute__((always_inline)) sdekit_double8 kernel_exp2_sixteenth8(sdekit_long8 index) {
#if SDEKIT_USE_AVX512
  return (sdekit_double8)_mm512_permutex2var_pd(_mm512_loadu_pd(kernel_exp2_sixteenths), (__m512i)index,
                                                _mm512_loadu_pd(kernel_exp2_sixteenths + 8));
#else
  sdekit_long8 j = index & 15;
  const double *t = kernel_exp2_sixteenths;
  return (sdekit_double8){t[j[0]], t[j[1]], t[j[2]], t[j[3]], t[j[4]], t[j[5]], t[j[6]], t[j[7]]};
#endif
}

/// The lanes of `value`, with 0 where x < limit.
static inline __attribute__((always_inline)) sdekit_double8 kernel_zero_where_below8(sdekit_double8 value,
                                                                                      sdekit_double8 x,
                                                                                      sdekit_double8 limit) {
  return x < limit ? (sdekit_double8)0.0 : value;
}

/// eˣ for eight lanes. Written with fused multiply–adds, which IEEE 754 rounds once, so the bits
/// are those of exact arithmetic rounded the same way on every machine: a level whose CPU has the
/// instruction uses it, the x86-64 baseline calls libm's fma(), which gives the same bits
/// without it (eight times slower; every x86-64 CPU with AVX2 has the instruction).
static inline __attribute__((always_inline)) sdekit_double8 kernel_exp8(sdekit_double8 x) {
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
  sdekit_long8 table = (sdekit_long8)kernel_exp2_sixteenth8(mBits);
  sdekit_double8 scale = (sdekit_double8)(table + (sdekit_long8)((sdekit_ulong8)(mBits >> 4) << 52));
  return kernel_zero_where_below8(__builtin_elementwise_fma(scale, expm1, scale), x, low);
}
