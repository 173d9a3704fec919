// Vector primitives for SDEKit's SIMD loops that Swift's SIMD types do not compile to a few
// instructions on Linux: their lane masks (.replacing(with:where:), pointwiseMax) and lane
// shuffles go through memory one lane at a time. Clang's vector extensions compile each of these
// to a few vector instructions where the CPU has them. Every result is exact (a comparison, a
// choice, a lookup, a move), so the bits are the same on every machine. Swift imports double8 as
// SIMD8<Double>.
#ifndef CSIMDMATH_H
#define CSIMDMATH_H

typedef double sdekit_double8 __attribute__((ext_vector_type(8)));
typedef long long sdekit_long8 __attribute__((ext_vector_type(8)));

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

/// table[index[ℓ]] in each lane ℓ.
static inline __attribute__((always_inline)) sdekit_double8 sdekit_gather8(const double *table,
                                                                           sdekit_long8 index) {
  return (sdekit_double8){table[index[0]], table[index[1]], table[index[2]], table[index[3]],
                          table[index[4]], table[index[5]], table[index[6]], table[index[7]]};
}

/// Bit ℓ set for each lane ℓ where |x| < limit does not hold.
static inline __attribute__((always_inline)) int sdekit_not_below8(sdekit_double8 x, sdekit_double8 limit) {
  sdekit_long8 below = (sdekit_long8)(__builtin_elementwise_abs(x) < limit);
  sdekit_long8 bits = {1, 2, 4, 8, 16, 32, 64, 128};
  return (int)__builtin_reduce_or(~below & bits);
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

#endif
