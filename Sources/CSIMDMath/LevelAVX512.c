// The kernels for x86-64 CPUs with AVX-512 F, DQ and VL (Skylake-SP, Zen 4 and later): 512-bit
// registers, and the few intrinsics (mask comparisons, two-table permutes, the unsigned 32-bit
// multiply) that the portable code compiles poorly without.
#if defined(__x86_64__)
#include <immintrin.h>
#define SDEKIT_LEVEL avx512
#define SDEKIT_DENSE_ROWS 4
#define SDEKIT_DENSE_VECTORS 4
#define SDEKIT_USE_AVX512 1
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#include "Kernels/Kernels.h"
#pragma clang attribute pop
#endif
