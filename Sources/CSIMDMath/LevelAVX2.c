// The kernels for x86-64 CPUs with AVX2 and FMA (Haswell, Zen 1 and later): the baseline's code
// in 256-bit registers, with hardware fused multiply–adds.
#if defined(__x86_64__)
#include <immintrin.h>
#define SDEKIT_LEVEL avx2
#define SDEKIT_DENSE_ROWS 4
#define SDEKIT_DENSE_VECTORS 1
#define SDEKIT_USE_AVX512 0
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "Kernels/Kernels.h"
#pragma clang attribute pop
#endif
