// The derivatives of a mixture's score for the probability-flow likelihood: score,
// divergence and a Jacobian–vector product per block of eight two-dimensional rows. Part of one
// level's kernels: included by Kernels.h only.

/// The score of eight rows of two values under a mixture of isotropic components that share one
/// variance, with its divergence and, when `tangents` is not null, its Jacobian times one tangent
/// per row: GaussianMixture.sharedVarianceBlock's arithmetic (MixtureScoreDerivatives.swift) for
/// d = 2, operation for operation and in the same order (so the same bits), its log-terms those
/// of sdekit_shared_mixture_score2. With p = 1/v, responsibilities r_k and m = Σ r_k aμ_k:
///
///   score = p (m − x),   divergence = p² Σ_k r_k ‖aμ_k − m‖² − 2p,
///   J v = p² Σ_k r_k (aμ_k − m)((aμ_k − m)·v) − p v.
///
/// Per component k: bias[k], aμ_k/v at scaledCentres[2k …], aμ_k at centres[2k …]; p is
/// `precision`. `terms` holds `components` vectors. Rows, tangents, score and products in row
/// order; eight divergences.
static inline __attribute__((always_inline)) void kernel_shared_mixture_derivatives2(
    const double *rows, long components, const double *bias, const double *scaledCentres, const double *centres,
    double precision, const double *tangents, sdekit_double8 *terms, double *score, double *divergence,
    double *products) {
  sdekit_double8 x0 = sdekit_first_of_pairs(rows), x1 = sdekit_second_of_pairs(rows);
  sdekit_double8 largest = kernel_log_terms2(x0, x1, components, bias, scaledCentres, terms);
  sdekit_double8 inverseTotal = 1.0 / kernel_exponentials(terms, components, largest);
  sdekit_double8 m0 = 0.0, m1 = 0.0;
  for (long k = 0; k < components; k++) {
    sdekit_double8 r = terms[k] * inverseTotal;
    terms[k] = r;
    m0 = m0 + r * centres[2 * k];
    m1 = m1 + r * centres[2 * k + 1];
  }
  sdekit_interleave2(precision * (m0 - x0), precision * (m1 - x1), score);
  sdekit_double8 spread = 0.0;
  for (long k = 0; k < components; k++) {
    sdekit_double8 w0 = centres[2 * k] - m0, w1 = centres[2 * k + 1] - m1;
    sdekit_double8 squared = 0.0;
    squared = squared + w0 * w0;
    squared = squared + w1 * w1;
    spread = spread + terms[k] * squared;
  }
  *(sdekit_double8_unaligned *)divergence = (precision * precision) * spread - 2.0 * precision;
  if (!tangents) return;
  sdekit_double8 v0 = sdekit_first_of_pairs(tangents), v1 = sdekit_second_of_pairs(tangents);
  sdekit_double8 p0 = -precision * v0, p1 = -precision * v1;
  for (long k = 0; k < components; k++) {
    sdekit_double8 w0 = centres[2 * k] - m0, w1 = centres[2 * k + 1] - m1;
    sdekit_double8 projection = 0.0;
    projection = projection + w0 * v0;
    projection = projection + w1 * v1;
    sdekit_double8 weighted = (precision * precision) * terms[k] * projection;
    p0 = p0 + weighted * w0;
    p1 = p1 + weighted * w1;
  }
  sdekit_interleave2(p0, p1, products);
}
