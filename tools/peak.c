// The machine's double-precision peak with AVX2 and no fused multiply-adds: independent
// 4-lane multiplies and adds, enough of them in flight to hide their latency. This is the
// ceiling that the README's performance section compares SDEKit's kernels with. Then the
// single-precision peak with fused multiply–adds (each two operations), 8 and 16 lanes, the
// ceiling of the learned score's dense layers (W5).
//
//   cc -O2 -mavx2 -mfma tools/peak.c -o /tmp/peak && /tmp/peak
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

// Twelve independent chains of fused multiply–adds (latency 4–5 cycles, two units): each unit
// always has one ready. Best of three; operations = 2 per lane per multiply–add.
#define FMA_CHAINS(vector, set1, fmadd, lanes)                                                  \
  vector c[12], factor = set1(0.9999999f), offset = set1(1e-7f);                               \
  for (int i = 0; i < 12; i++) c[i] = set1((float)i);                                           \
  double best = 0;                                                                              \
  for (int repeat = 0; repeat < 3; repeat++) {                                                  \
    double start = seconds();                                                                   \
    for (long n = 0; n < 20000000; n++) {                                                       \
      for (int i = 0; i < 12; i++) c[i] = fmadd(c[i], factor, offset);                          \
      __asm__ volatile("" : "+v"(c[0]), "+v"(c[1]), "+v"(c[2]), "+v"(c[3]), "+v"(c[4]), "+v"(c[5]), \
                       "+v"(c[6]), "+v"(c[7]), "+v"(c[8]), "+v"(c[9]), "+v"(c[10]), "+v"(c[11]));  \
    }                                                                                           \
    double rate = 20000000.0 * 12 * lanes * 2 / (seconds() - start) / 1e9;                     \
    if (rate > best) best = rate;                                                               \
  }                                                                                             \
  return best;

static double float_peak256(void) { FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, 8) }

__attribute__((target("avx512f"))) static double float_peak512(void) {
  FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, 16)
}

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
  printf("%.1f single-precision operations per ns with 256-bit fused multiply-adds\n", float_peak256());
  if (__builtin_cpu_supports("avx512f")) {
    printf("%.1f single-precision operations per ns with 512-bit fused multiply-adds\n", float_peak512());
  }
  return 0;
}
