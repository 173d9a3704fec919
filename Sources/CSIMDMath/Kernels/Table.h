// One level's kernels as a table of entry points (Dispatch.c picks one table per process).
#ifndef SDEKIT_KERNEL_TABLE_H
#define SDEKIT_KERNEL_TABLE_H

#include "CSIMDMath.h"

struct sdekit_kernel_table {
  void (*philox8)(unsigned c0, unsigned c1, const sdekit_ulong8 *c2, const sdekit_ulong8 *c3, unsigned k0,
                  unsigned k1, sdekit_ulong8 *words);
  void (*ziggurat_candidates8)(const sdekit_ulong8 *words, const double *layers, sdekit_double8 *values,
                               int *rejected);
  unsigned (*normal_candidates)(long count, unsigned c1, const sdekit_ulong8 *c2, const sdekit_ulong8 *c3,
                                unsigned k0, unsigned k1, const double *layers, double *values,
                                sdekit_ulong8 *words, unsigned *rejections);
  void (*normal_group_rows)(const double *columns, long count, double scale, double *out);
  void (*exp8)(const sdekit_double8 *x, sdekit_double8 *y);
  void (*exponentials)(double *terms, long count, const double *largest, double *total);
  void (*shared_mixture_scores2)(long blocks, const double *rows, long components, const double *bias,
                                 const double *scaledCentres, const double *centres, const double *inverseVariance,
                                 int combine, double xCoefficient, double scoreCoefficient, sdekit_double8 *terms,
                                 double *out);
  void (*shared_mixture_scores_wide)(long blocks, const double *rows, long dimension, long components,
                                     const double *bias, const double *scaledCentresByCoordinate,
                                     const double *centres, const double *inverseVariance, int combine,
                                     double xCoefficient, double scoreCoefficient, sdekit_double8 *terms,
                                     double *out);
  void (*shared_mixture_derivatives2)(const double *rows, long components, const double *bias,
                                      const double *scaledCentres, const double *centres, double precision,
                                      const double *tangents, sdekit_double8 *terms, double *score, double *divergence,
                                      double *products);
  void (*euler_maruyama_additive)(long n, double *x, double h, const double *f, double g, const double *dW);
  void (*euler_maruyama_diagonal)(long n, double *x, double h, const double *f, const double *g, const double *dW);
  void (*stage_sum)(long n, double *out, const double *base, long count, const double *coefficients,
                    const double *const *values, const double *const *factors);
  void (*srk_integrals)(long n, const double *dW, double absH, double *i11, double *i111);
  void (*srk_diffusion_update)(long n, double *x, const double *g, double b1, const double *dW, double b2,
                               const double *i11, double b3, const double *dZ, double b4, const double *i111);
  long (*first_nonfinite)(const double *values, long n);
  void (*dense_f32)(long rows, long inputs, long width, const float *x, long ldx, const float *w, long ldw,
                    const float *bias, int silu, float *out, long ldo);
  void (*bias_silu_f32)(float *z, long count, const float *bias, long width, int silu);
};

extern const struct sdekit_kernel_table sdekit_kernels_baseline;
#if defined(__x86_64__)
extern const struct sdekit_kernel_table sdekit_kernels_avx2;
extern const struct sdekit_kernel_table sdekit_kernels_avx512;
#endif

#endif
