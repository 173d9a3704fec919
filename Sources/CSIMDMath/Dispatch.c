// Chooses the level of the kernels once per process, and forwards each entry point of
// CSIMDMath.h to that level's table.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "Kernels/Table.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

static const char *const level_names[SDEKIT_LEVEL_COUNT] = {"baseline", "avx2", "avx512"};

static const struct sdekit_kernel_table *level_table(int level) {
  switch (level) {
#if defined(__x86_64__)
  case SDEKIT_LEVEL_AVX512: return &sdekit_kernels_avx512;
  case SDEKIT_LEVEL_AVX2: return &sdekit_kernels_avx2;
#endif
  case SDEKIT_LEVEL_BASELINE: return &sdekit_kernels_baseline;
  default: return NULL;
  }
}

const char *sdekit_level_name(int level) {
  return level >= 0 && level < SDEKIT_LEVEL_COUNT ? level_names[level] : NULL;
}

#if defined(__x86_64__)
/// The best level the CPU and the system support, from cpuid and XCR0: a CPU may have AVX-512
/// while the system does not save its registers on a context switch (then it is not usable).
static int best_supported_level(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return SDEKIT_LEVEL_BASELINE;
  int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!(fma && osxsave && avx)) return SDEKIT_LEVEL_BASELINE;
  unsigned xcr0Low, xcr0High;
  __asm__("xgetbv" : "=a"(xcr0Low), "=d"(xcr0High) : "c"(0));
  // XCR0 bits 1–2: SSE and AVX state; bits 5–7: the AVX-512 mask and upper registers.
  if ((xcr0Low & 0x6) != 0x6) return SDEKIT_LEVEL_BASELINE;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return SDEKIT_LEVEL_BASELINE;
  int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512vl = (b >> 31) & 1;
  if (!avx2) return SDEKIT_LEVEL_BASELINE;
  if (avx512f && avx512dq && avx512vl && (xcr0Low & 0xE6) == 0xE6) return SDEKIT_LEVEL_AVX512;
  return SDEKIT_LEVEL_AVX2;
}
#else
static int best_supported_level(void) { return SDEKIT_LEVEL_BASELINE; }
#endif

int sdekit_level_supported(int level) {
  return level >= 0 && level <= best_supported_level() && level_table(level) != NULL;
}

static const struct sdekit_kernel_table *current_table;
static int current_level = -1;
static pthread_once_t chosen = PTHREAD_ONCE_INIT;

/// The level SDEKIT_ISA names, or the best one when it is unset or empty. A name that is not a
/// level, or a level this CPU cannot run, ends the process: see CSIMDMath.h.
static void choose_level(void) {
  int best = best_supported_level(), level = best;
  const char *forced = getenv("SDEKIT_ISA");
  if (forced && *forced) {
    level = -1;
    for (int l = 0; l < SDEKIT_LEVEL_COUNT; l++) {
      if (strcmp(forced, level_names[l]) == 0) level = l;
    }
    char allowed[64] = "";
    for (int l = 0; l <= best; l++) {
      if (level_table(l)) {
        if (*allowed) strcat(allowed, ", ");
        strcat(allowed, level_names[l]);
      }
    }
    if (level < 0) {
      fprintf(stderr, "sdekit: SDEKIT_ISA=%s is not an instruction-set level; allowed on this CPU: %s "
                      "(or leave it unset for the best, %s)\n", forced, allowed, level_names[best]);
      exit(2);
    }
    if (!sdekit_level_supported(level)) {
      fprintf(stderr, "sdekit: SDEKIT_ISA=%s asks for a level this CPU cannot run; allowed on this CPU: %s "
                      "(or leave it unset for the best, %s)\n", forced, allowed, level_names[best]);
      exit(2);
    }
  }
  __atomic_store_n(&current_level, level, __ATOMIC_RELAXED);
  __atomic_store_n(&current_table, level_table(level), __ATOMIC_RELEASE);
}

static inline const struct sdekit_kernel_table *kernels(void) {
  const struct sdekit_kernel_table *table = __atomic_load_n(&current_table, __ATOMIC_ACQUIRE);
  if (__builtin_expect(table != NULL, 1)) return table;
  pthread_once(&chosen, choose_level);
  return __atomic_load_n(&current_table, __ATOMIC_ACQUIRE);
}

int sdekit_level_current(void) {
  kernels();
  return __atomic_load_n(&current_level, __ATOMIC_RELAXED);
}

int sdekit_level_select(int level) {
  kernels();  // SDEKIT_ISA is still checked, once
  if (!sdekit_level_supported(level)) return 0;
  __atomic_store_n(&current_level, level, __ATOMIC_RELAXED);
  __atomic_store_n(&current_table, level_table(level), __ATOMIC_RELEASE);
  return 1;
}

// MARK: - Entry points

void sdekit_philox8_at(unsigned c0, unsigned c1, const sdekit_ulong8 *c2, const sdekit_ulong8 *c3, unsigned k0,
                       unsigned k1, sdekit_ulong8 *words) {
  kernels()->philox8(c0, c1, c2, c3, k0, k1, words);
}

void sdekit_ziggurat_candidates8_at(const sdekit_ulong8 *words, const double *layers, sdekit_double8 *values,
                                    int *rejected) {
  kernels()->ziggurat_candidates8(words, layers, values, rejected);
}

unsigned sdekit_normal_candidates_at(long count, unsigned c1, const sdekit_ulong8 *c2, const sdekit_ulong8 *c3,
                                     unsigned k0, unsigned k1, const double *layers, double *values,
                                     sdekit_ulong8 *words, unsigned *rejections) {
  return kernels()->normal_candidates(count, c1, c2, c3, k0, k1, layers, values, words, rejections);
}

void sdekit_normal_group_rows(const double *columns, long count, double scale, double *out) {
  kernels()->normal_group_rows(columns, count, scale, out);
}

void sdekit_exp8_at(const sdekit_double8 *x, sdekit_double8 *y) { kernels()->exp8(x, y); }

void sdekit_exponentials(double *terms, long count, const double *largest, double *total) {
  kernels()->exponentials(terms, count, largest, total);
}

void sdekit_shared_mixture_scores2(long blocks, const double *rows, long components, const double *bias,
                                   const double *scaledCentres, const double *centres,
                                   const double *inverseVariance, int combine, double xCoefficient,
                                   double scoreCoefficient, sdekit_double8 *terms, double *out) {
  kernels()->shared_mixture_scores2(blocks, rows, components, bias, scaledCentres, centres, inverseVariance, combine,
                                    xCoefficient, scoreCoefficient, terms, out);
}

void sdekit_shared_mixture_scores_wide(long blocks, const double *rows, long dimension, long components,
                                       const double *bias, const double *scaledCentresByCoordinate,
                                       const double *centres, const double *inverseVariance, int combine,
                                       double xCoefficient, double scoreCoefficient, sdekit_double8 *terms,
                                       double *out) {
  kernels()->shared_mixture_scores_wide(blocks, rows, dimension, components, bias, scaledCentresByCoordinate,
                                        centres, inverseVariance, combine, xCoefficient, scoreCoefficient, terms,
                                        out);
}

void sdekit_shared_mixture_derivatives2(const double *rows, long components, const double *bias,
                                        const double *scaledCentres, const double *centres, double precision,
                                        const double *tangents, sdekit_double8 *terms, double *score,
                                        double *divergence, double *products) {
  kernels()->shared_mixture_derivatives2(rows, components, bias, scaledCentres, centres, precision, tangents, terms,
                                         score, divergence, products);
}

void sdekit_euler_maruyama_additive(long n, double *x, double h, const double *f, double g, const double *dW) {
  kernels()->euler_maruyama_additive(n, x, h, f, g, dW);
}

void sdekit_euler_maruyama_diagonal(long n, double *x, double h, const double *f, const double *g,
                                    const double *dW) {
  kernels()->euler_maruyama_diagonal(n, x, h, f, g, dW);
}

void sdekit_stage_sum(long n, double *out, const double *base, long count, const double *coefficients,
                      const double *const *values, const double *const *factors) {
  kernels()->stage_sum(n, out, base, count, coefficients, values, factors);
}

void sdekit_srk_integrals(long n, const double *dW, double absH, double *i11, double *i111) {
  kernels()->srk_integrals(n, dW, absH, i11, i111);
}

void sdekit_srk_diffusion_update(long n, double *x, const double *g, double b1, const double *dW, double b2,
                                 const double *i11, double b3, const double *dZ, double b4, const double *i111) {
  kernels()->srk_diffusion_update(n, x, g, b1, dW, b2, i11, b3, dZ, b4, i111);
}

long sdekit_first_nonfinite(const double *values, long n) { return kernels()->first_nonfinite(values, n); }

void sdekit_dense_f32(long rows, long inputs, long width, const float *x, long ldx, const float *w, long ldw,
                      const float *bias, int silu, float *out, long ldo) {
  kernels()->dense_f32(rows, inputs, width, x, ldx, w, ldw, bias, silu, out, ldo);
}

void sdekit_bias_silu_f32(float *z, long count, const float *bias, long width, int silu) {
  kernels()->bias_silu_f32(z, count, bias, width, silu);
}
