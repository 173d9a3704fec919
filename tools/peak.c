// The machine's double-precision peak with AVX2 and no fused multiply-adds: independent
// 4-lane multiplies and adds, enough of them in flight to hide their latency. This is the
// ceiling that the README's performance section compares SDEKit's kernels with.
//
//   cc -O2 -mavx2 tools/peak.c -o /tmp/peak && /tmp/peak
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// One round: six multiply chains and six add chains, each a register of four lanes, so both
// kinds of unit have independent work every cycle.
#define ROUND(m0, m1, m2, m3, m4, m5, a0, a1, a2, a3, a4, a5)                                  \
  m0 = _mm256_mul_pd(m0, factor); m1 = _mm256_mul_pd(m1, factor); m2 = _mm256_mul_pd(m2, factor);  \
  m3 = _mm256_mul_pd(m3, factor); m4 = _mm256_mul_pd(m4, factor); m5 = _mm256_mul_pd(m5, factor);  \
  a0 = _mm256_add_pd(a0, offset); a1 = _mm256_add_pd(a1, offset); a2 = _mm256_add_pd(a2, offset);  \
  a3 = _mm256_add_pd(a3, offset); a4 = _mm256_add_pd(a4, offset); a5 = _mm256_add_pd(a5, offset);

int main(void) {
  enum { rounds = 50000000, operations = 12 * 4 };
  const __m256d factor = _mm256_set1_pd(0.999999999), offset = _mm256_set1_pd(1e-9);
  __m256d m0 = _mm256_set1_pd(1), m1 = _mm256_set1_pd(2), m2 = _mm256_set1_pd(3);
  __m256d m3 = _mm256_set1_pd(4), m4 = _mm256_set1_pd(5), m5 = _mm256_set1_pd(6);
  __m256d a0 = m0, a1 = m1, a2 = m2, a3 = m3, a4 = m4, a5 = m5;
  double best = 0;
  for (int repeat = 0; repeat < 3; repeat++) {
    double start = seconds();
    for (long n = 0; n < rounds; n++) {
      ROUND(m0, m1, m2, m3, m4, m5, a0, a1, a2, a3, a4, a5)
      // Keeps the loop from being folded into a closed form.
      __asm__ volatile("" : "+x"(m0), "+x"(m1), "+x"(m2), "+x"(m3), "+x"(m4), "+x"(m5),
                       "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
    }
    double rate = (double)rounds * operations / (seconds() - start) / 1e9;
    if (rate > best) best = rate;
  }
  __m256d all = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(m0, m1), _mm256_add_pd(m2, m3)),
                              _mm256_add_pd(_mm256_add_pd(m4, m5), _mm256_add_pd(a0, a5)));
  double lanes[4];
  _mm256_storeu_pd(lanes, all);
  printf("%.1f double-precision operations per ns (best of 3; checksum %g)\n", best, lanes[0]);
  return 0;
}
