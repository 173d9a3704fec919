// The kernels for what every CPU of the architecture has: SSE2 on x86-64 (fused multiply–adds
// through libm's fma(), the same bits), NEON on arm64.
#define SDEKIT_LEVEL baseline
#define SDEKIT_DENSE_ROWS 2
#define SDEKIT_DENSE_VECTORS 2
#define SDEKIT_USE_AVX512 0
#include "Kernels/Kernels.h"
