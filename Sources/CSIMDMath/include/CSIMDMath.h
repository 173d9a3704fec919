// Vector square root for SDEKit's SIMD loops. Swift's SIMD8<Double>.squareRoot() runs lane by
// lane through libm's sqrt (with errno checks); clang's elementwise builtin compiles to one
// vector instruction where the CPU has it. IEEE square roots are correctly rounded, so the bits
// are the same on every machine either way. Swift imports double8 as SIMD8<Double>.
#ifndef CSIMDMATH_H
#define CSIMDMATH_H

typedef double sdekit_double8 __attribute__((ext_vector_type(8)));

static inline __attribute__((always_inline)) sdekit_double8 sdekit_sqrt8(sdekit_double8 x) {
  return __builtin_elementwise_sqrt(x);
}

#endif
