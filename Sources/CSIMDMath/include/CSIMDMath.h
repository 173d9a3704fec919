// Vector primitives for SDEKit's SIMD loops that Swift's SIMD types do not compile to single
// instructions on Linux: Swift's SIMD8<Double>.squareRoot() runs lane by lane through libm's
// sqrt, and its lane masks (.replacing(with:where:), pointwiseMax) go through memory one lane at
// a time. Clang's vector extensions compile each of these to one or two vector instructions where
// the CPU has them. Every result is exact IEEE arithmetic (a correctly rounded square root, a
// comparison, a choice), so the bits are the same on every machine. Swift imports double8 as
// SIMD8<Double>.
#ifndef CSIMDMATH_H
#define CSIMDMATH_H

typedef double sdekit_double8 __attribute__((ext_vector_type(8)));
typedef long long sdekit_long8 __attribute__((ext_vector_type(8)));

static inline __attribute__((always_inline)) sdekit_double8 sdekit_sqrt8(sdekit_double8 x) {
  return __builtin_elementwise_sqrt(x);
}

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

#endif
