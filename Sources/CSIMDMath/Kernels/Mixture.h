// Scores of Gaussian mixtures whose components are isotropic and share one variance (every
// built-in target): GaussianMixture.evaluate's arithmetic, operation for operation and in the
// same order, so the same bits as its general path. Part of one level's kernels: included by
// Kernels.h only.

/// terms[k] ← exp(terms[k] − largest) for k < count; returns their sum in k order.
static inline __attribute__((always_inline)) sdekit_double8 kernel_exponentials(sdekit_double8 *terms, long count,
                                                                                sdekit_double8 largest) {
  sdekit_double8 total = 0.0;
  for (long k = 0; k < count; k++) {
    sdekit_double8 e = kernel_exp8(terms[k] - largest);
    terms[k] = e;
    total = total + e;
  }
  return total;
}

/// The log-terms of eight two-dimensional rows (x0, x1 the rows' coordinates on the lanes):
/// terms[k] ← bias[k] + x0·scaledCentres[2k] + x1·scaledCentres[2k + 1]; returns their largest.
static inline __attribute__((always_inline)) sdekit_double8 kernel_log_terms2(
    sdekit_double8 x0, sdekit_double8 x1, long components, const double *bias, const double *scaledCentres,
    sdekit_double8 *terms) {
  sdekit_double8 largest = -1.7976931348623157e308;
  for (long k = 0; k < components; k++) {
    sdekit_double8 t = bias[k];
    t = t + x0 * scaledCentres[2 * k];
    t = t + x1 * scaledCentres[2 * k + 1];
    terms[k] = t;
    largest = sdekit_select_greater8(largest, t);
  }
  return largest;
}

/// The score of eight rows of two values, or c·x + b·score with `combine`, with the block's terms
/// in `terms` (K vectors) and everything else in registers. Per component k: bias[k], aμ_k/v at
/// scaledCentres[2k …], aμ_k at centres[2k …], 1/v at inverseVariance[k]. Rows in and out in
/// row order.
static inline __attribute__((always_inline)) void kernel_shared_mixture_score2(
    const double *rows, long components, const double *bias, const double *scaledCentres, const double *centres,
    const double *inverseVariance, int combine, double xCoefficient, double scoreCoefficient,
    sdekit_double8 *terms, double *out) {
  sdekit_double8 x0 = sdekit_first_of_pairs(rows), x1 = sdekit_second_of_pairs(rows);
  sdekit_double8 largest = kernel_log_terms2(x0, x1, components, bias, scaledCentres, terms);
  sdekit_double8 inverseTotal = 1.0 / kernel_exponentials(terms, components, largest);
  sdekit_double8 precision = 0.0, s0 = 0.0, s1 = 0.0;
  for (long k = 0; k < components; k++) {
    sdekit_double8 e = terms[k] * inverseVariance[k];
    precision = precision + e;
    s0 = s0 + e * centres[2 * k];
    s1 = s1 + e * centres[2 * k + 1];
  }
  sdekit_double8 score0 = (s0 - x0 * precision) * inverseTotal, score1 = (s1 - x1 * precision) * inverseTotal;
  if (combine) {
    score0 = xCoefficient * x0 + scoreCoefficient * score0;
    score1 = xCoefficient * x1 + scoreCoefficient * score1;
  }
  sdekit_interleave2(score0, score1, out);
}

/// The score of eight rows of d values (d a multiple of 8) under K components (K a multiple of
/// 8), or c·x + b·score with `combine`, without moving the rows in and out of column form (a
/// fifth of gmm64d16's score). Both products take eight rows at a time against one vector of the
/// other side, each row's value a broadcast: the log-terms with eight components on the lanes,
/// then one 8 × 8 transpose turns them into columns for the softmax (rows on the lanes); the
/// weighted sum of the centres with eight coordinates on the lanes. bias[k], 1/v at
/// inverseVariance[k], aμ_k at centres[k·d …] and aμ_kj/v at scaledCentresByCoordinate[j·K + k];
/// `terms` holds K vectors.
static inline __attribute__((always_inline)) void kernel_shared_mixture_score_wide(
    const double *rows, long dimension, long components, const double *bias,
    const double *scaledCentresByCoordinate, const double *centres, const double *inverseVariance, int combine,
    double xCoefficient, double scoreCoefficient, sdekit_double8 *terms, double *out) {
  const long d = dimension, K = components;
  double block[64] __attribute__((aligned(64)));
  for (long k0 = 0; k0 < K; k0 += 8) {
    sdekit_double8 t[8];
    for (int r = 0; r < 8; r++) t[r] = *(const sdekit_double8_unaligned *)(bias + k0);
    for (long j = 0; j < d; j++) {
      sdekit_double8 c = *(const sdekit_double8_unaligned *)(scaledCentresByCoordinate + j * K + k0);
      for (int r = 0; r < 8; r++) t[r] = t[r] + rows[r * d + j] * c;
    }
    for (int r = 0; r < 8; r++) *(sdekit_double8 *)(block + 8 * r) = t[r];
    sdekit_transpose8(block, 8, 1.0, (double *)(terms + k0), 8);  // × 1 is exact
  }
  sdekit_double8 largest = -1.7976931348623157e308;
  for (long k = 0; k < K; k++) largest = sdekit_select_greater8(largest, terms[k]);
  sdekit_double8 inverseTotal = 1.0 / kernel_exponentials(terms, K, largest), precision = 0.0;
  for (long k = 0; k < K; k++) {
    sdekit_double8 e = terms[k] * inverseVariance[k];
    terms[k] = e;
    precision = precision + e;
  }
  const double *weights = (const double *)terms;  // row r's weight of component k at 8k + r
  for (long j0 = 0; j0 < d; j0 += 8) {
    sdekit_double8 s[8];
    for (int r = 0; r < 8; r++) s[r] = 0.0;
    for (long k = 0; k < K; k++) {
      sdekit_double8 centre = *(const sdekit_double8_unaligned *)(centres + k * d + j0);
      for (int r = 0; r < 8; r++) s[r] = s[r] + weights[8 * k + r] * centre;
    }
    for (int r = 0; r < 8; r++) {
      long offset = r * d + j0;
      sdekit_double8 x = *(const sdekit_double8_unaligned *)(rows + offset);
      sdekit_double8 score = (s[r] - x * precision[r]) * inverseTotal[r];
      if (combine) score = xCoefficient * x + scoreCoefficient * score;
      *(sdekit_double8_unaligned *)(out + offset) = score;
    }
  }
}
