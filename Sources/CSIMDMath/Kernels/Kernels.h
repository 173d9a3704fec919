// Every kernel of one instruction-set level, and that level's table of entry points. A level's
// source file (Level*.c) defines SDEKIT_LEVEL (the table's name suffix), SDEKIT_USE_AVX512 (0 or
// 1: whether the AVX-512 intrinsics may be used) and the dense layers' register blocking
// (SDEKIT_DENSE_ROWS × SDEKIT_DENSE_VECTORS accumulators), includes the intrinsics' headers, then
// includes this file inside a `#pragma clang attribute push(target(...))`, so every function
// below is compiled for that level. Written once, compiled three times: the bits are the same
// on every level because every operation is.
#include "Table.h"

#pragma clang diagnostic push
// Kernels hand 512-bit vectors between always-inlined functions: no calling convention is
// involved (entry points take vectors through pointers).
#pragma clang diagnostic ignored "-Wpsabi"
#pragma STDC FP_CONTRACT OFF

#include "Philox.h"
#include "Exp.h"
#include "Ziggurat.h"
#include "Mixture.h"
#include "MixtureDerivatives.h"
#include "Updates.h"
#include "Network.h"

/// One vector at an address aligned only as its elements are.
typedef unsigned long long kernel_ulong8_unaligned __attribute__((ext_vector_type(8), aligned(8)));

#define SDEKIT_JOIN2(a, b) a##_##b
#define SDEKIT_JOIN(a, b) SDEKIT_JOIN2(a, b)
#define SDEKIT_ENTRY(name) SDEKIT_JOIN(name, SDEKIT_LEVEL)

static void SDEKIT_ENTRY(philox8)(unsigned c0, unsigned c1, const sdekit_ulong8 *c2, const sdekit_ulong8 *c3,
                                  unsigned k0, unsigned k1, sdekit_ulong8 *words) {
  sdekit_ulong8 block[4];
  kernel_philox8(c0, c1, *(const kernel_ulong8_unaligned *)c2, *(const kernel_ulong8_unaligned *)c3, k0, k1,
                 block);
  for (int j = 0; j < 4; j++) ((kernel_ulong8_unaligned *)words)[j] = block[j];
}

static void SDEKIT_ENTRY(ziggurat_candidates8)(const sdekit_ulong8 *words, const double *layers,
                                               sdekit_double8 *values, int *rejected) {
  *(sdekit_double8_unaligned *)values =
      kernel_ziggurat_candidates8(*(const kernel_ulong8_unaligned *)words, layers, rejected);
}

static unsigned SDEKIT_ENTRY(normal_candidates)(long count, unsigned c1, const sdekit_ulong8 *c2,
                                                const sdekit_ulong8 *c3, unsigned k0, unsigned k1,
                                                const double *layers, double *values, sdekit_ulong8 *words,
                                                unsigned *rejections) {
  return kernel_normal_candidates(count, c1, *(const kernel_ulong8_unaligned *)c2,
                                  *(const kernel_ulong8_unaligned *)c3, k0, k1, layers, values, words, rejections);
}

static void SDEKIT_ENTRY(exp8)(const sdekit_double8 *x, sdekit_double8 *y) {
  *(sdekit_double8_unaligned *)y = kernel_exp8(*(const sdekit_double8_unaligned *)x);
}

static void SDEKIT_ENTRY(exponentials)(double *terms, long count, const double *largest, double *total) {
  *(sdekit_double8_unaligned *)total =
      kernel_exponentials((sdekit_double8 *)terms, count, *(const sdekit_double8_unaligned *)largest);
}

static void SDEKIT_ENTRY(shared_mixture_scores2)(long blocks, const double *rows, long components,
                                                 const double *bias, const double *scaledCentres,
                                                 const double *centres, const double *inverseVariance, int combine,
                                                 double xCoefficient, double scoreCoefficient,
                                                 sdekit_double8 *terms, double *out) {
  for (long b = 0; b < blocks; b++) {
    kernel_shared_mixture_score2(rows + 16 * b, components, bias, scaledCentres, centres, inverseVariance, combine,
                                 xCoefficient, scoreCoefficient, terms, out + 16 * b);
  }
}

static void SDEKIT_ENTRY(shared_mixture_scores_wide)(long blocks, const double *rows, long dimension,
                                                     long components, const double *bias,
                                                     const double *scaledCentresByCoordinate,
                                                     const double *centres, const double *inverseVariance,
                                                     int combine, double xCoefficient, double scoreCoefficient,
                                                     sdekit_double8 *terms, double *out) {
  for (long b = 0; b < blocks; b++) {
    kernel_shared_mixture_score_wide(rows + 8 * dimension * b, dimension, components, bias,
                                     scaledCentresByCoordinate, centres, inverseVariance, combine, xCoefficient,
                                     scoreCoefficient, terms, out + 8 * dimension * b);
  }
}

// The rest only name the level's copy, so that a profile says which level ran.
static void SDEKIT_ENTRY(normal_group_rows)(const double *columns, long count, double scale, double *out) {
  kernel_normal_group_rows(columns, count, scale, out);
}

static void SDEKIT_ENTRY(shared_mixture_derivatives2)(const double *rows, long components, const double *bias,
                                                      const double *scaledCentres, const double *centres,
                                                      double precision, const double *tangents, sdekit_double8 *terms,
                                                      double *score, double *divergence, double *products) {
  kernel_shared_mixture_derivatives2(rows, components, bias, scaledCentres, centres, precision, tangents, terms, score,
                                     divergence, products);
}

static void SDEKIT_ENTRY(euler_maruyama_additive)(long n, double *x, double h, const double *f, double g,
                                                  const double *dW) {
  kernel_euler_maruyama_additive(n, x, h, f, g, dW);
}

static void SDEKIT_ENTRY(euler_maruyama_diagonal)(long n, double *x, double h, const double *f, const double *g,
                                                  const double *dW) {
  kernel_euler_maruyama_diagonal(n, x, h, f, g, dW);
}

static void SDEKIT_ENTRY(stage_sum)(long n, double *out, const double *base, long count, const double *coefficients,
                                    const double *const *values, const double *const *factors) {
  kernel_stage_sum(n, out, base, count, coefficients, values, factors);
}

static void SDEKIT_ENTRY(srk_integrals)(long n, const double *dW, double absH, double *i11, double *i111) {
  kernel_srk_integrals(n, dW, absH, i11, i111);
}

static void SDEKIT_ENTRY(srk_diffusion_update)(long n, double *x, const double *g, double b1, const double *dW,
                                               double b2, const double *i11, double b3, const double *dZ, double b4,
                                               const double *i111) {
  kernel_srk_diffusion_update(n, x, g, b1, dW, b2, i11, b3, dZ, b4, i111);
}

static void SDEKIT_ENTRY(dense_f32)(long rows, long inputs, long width, const float *x, long ldx, const float *w,
                                    long ldw, const float *bias, int silu, float *out, long ldo) {
  kernel_dense_f32(rows, inputs, width, x, ldx, w, ldw, bias, silu, out, ldo);
}

static void SDEKIT_ENTRY(bias_silu_f32)(float *z, long count, const float *bias, long width, int silu) {
  kernel_bias_silu_f32(z, count, bias, width, silu);
}

static long SDEKIT_ENTRY(first_nonfinite)(const double *values, long n) { return kernel_first_nonfinite(values, n); }

const struct sdekit_kernel_table SDEKIT_ENTRY(sdekit_kernels) = {
    .philox8 = SDEKIT_ENTRY(philox8),
    .ziggurat_candidates8 = SDEKIT_ENTRY(ziggurat_candidates8),
    .normal_candidates = SDEKIT_ENTRY(normal_candidates),
    .normal_group_rows = SDEKIT_ENTRY(normal_group_rows),
    .exp8 = SDEKIT_ENTRY(exp8),
    .exponentials = SDEKIT_ENTRY(exponentials),
    .shared_mixture_scores2 = SDEKIT_ENTRY(shared_mixture_scores2),
    .shared_mixture_scores_wide = SDEKIT_ENTRY(shared_mixture_scores_wide),
    .shared_mixture_derivatives2 = SDEKIT_ENTRY(shared_mixture_derivatives2),
    .euler_maruyama_additive = SDEKIT_ENTRY(euler_maruyama_additive),
    .euler_maruyama_diagonal = SDEKIT_ENTRY(euler_maruyama_diagonal),
    .stage_sum = SDEKIT_ENTRY(stage_sum),
    .srk_integrals = SDEKIT_ENTRY(srk_integrals),
    .srk_diffusion_update = SDEKIT_ENTRY(srk_diffusion_update),
    .first_nonfinite = SDEKIT_ENTRY(first_nonfinite),
    .dense_f32 = SDEKIT_ENTRY(dense_f32),
    .bias_silu_f32 = SDEKIT_ENTRY(bias_silu_f32),
};

#pragma clang diagnostic pop
