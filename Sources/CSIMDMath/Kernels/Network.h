// The dense layers of a learned score network in single precision: a product with the weights,
// the bias and SiLU in one pass over a tile of rows (MLP.swift). Part of one level's kernels:
// included by Kernels.h only.
//
// Every output is Σ_k x_k·w_k accumulated in k order, one fused multiply–add per step, then the
// bias added and SiLU applied: each output's arithmetic is fixed, whatever vector width or
// blocking a level uses, so every level gives the same bits (and any machine: a BLAS's kernels
// sum in orders that differ between CPUs). Outputs go on the vector lanes and each input is a
// broadcast (an outer product per input), so no sum is ever split across lanes.

typedef float sdekit_float16 __attribute__((ext_vector_type(16)));
typedef float kernel_float16_unaligned __attribute__((ext_vector_type(16), aligned(4)));
typedef int kernel_int16 __attribute__((ext_vector_type(16)));

/// z·σ(z) = z / (1 + e^(−z)), SiLU. The exponential, of x = −z clamped to [−87, 88]: x = n ln 2 + r
/// with n the nearest integer to x/ln 2 (the 1.5·2²³ shift) and |r| ≤ ½ ln 2 (ln 2 in two parts,
/// Cody and Waite); eʳ − 1 = r + r²·q(r), where 1 + r + r²·q(r) is the minimax polynomial of
/// degree 6 for the relative error (3e-9; tools/minimax.py, coefficients rounded to floats), q by
/// Horner's rule; 2ⁿ in the exponent bits; within 2 ulp of libm. Written on r′ = −r, with the
/// negation folded into the constants and Horner's steps taking alternate signs, so that no step
/// needs one: every intermediate is the one of the direct form up to sign, so the same bits. Above
/// 88 the exponential stays e⁸⁸ (the quotient, z/e⁸⁸, is then 10⁻³⁸|z| where the true value is
/// smaller still), below −87 it stays e⁻⁸⁷ (1 + e⁻⁸⁷ rounds to 1). Every step one IEEE operation,
/// fused multiply–adds where written: the same bits on every level.
static inline __attribute__((always_inline)) sdekit_float16 kernel_silu16(sdekit_float16 z) {
  const sdekit_float16 shift = 12582912.0f;
  // −z clamped to [−87, 88]; a NaN z gives a NaN quotient whatever the exponential is.
  sdekit_float16 clamped = z > -88.0f ? z : (sdekit_float16)-88.0f;
  clamped = clamped < 87.0f ? clamped : (sdekit_float16)87.0f;
  sdekit_float16 shifted = __builtin_elementwise_fma(clamped, (sdekit_float16)-1.44269504f, shift);
  sdekit_float16 n = shifted - shift;
  sdekit_float16 r = __builtin_elementwise_fma(n, (sdekit_float16)0.693359375f, clamped);  // −r
  r = __builtin_elementwise_fma(n, (sdekit_float16)-2.12194440e-4f, r);
  sdekit_float16 q = __builtin_elementwise_fma((sdekit_float16)0.001381461275741458f, r,
                                               (sdekit_float16)-0.008368710055947304f);  // −q₁
  q = __builtin_elementwise_fma(q, r, (sdekit_float16)0.04166838899254799f);             // q₂
  q = __builtin_elementwise_fma(q, r, (sdekit_float16)-0.1666652113199234f);             // −q₃
  q = __builtin_elementwise_fma(q, r, (sdekit_float16)0.4999999403953552f);              // q
  sdekit_float16 expm1 = __builtin_elementwise_fma(r * r, q, -r);
  sdekit_float16 scale = (sdekit_float16)(((kernel_int16)shifted - (0x4B400000 - 127)) << 23);
  return z / (1.0f + __builtin_elementwise_fma(scale, expm1, scale));
}

/// z + bias, then SiLU when `silu`.
static inline __attribute__((always_inline)) sdekit_float16 kernel_bias_silu16(sdekit_float16 z, sdekit_float16 bias,
                                                                               int silu) {
  z = z + bias;
  return silu ? kernel_silu16(z) : z;
}

/// Rows r0 ..< r0 + ROWS and columns c ..< c + 16·VECTORS of a dense layer (see kernel_dense_f32):
/// ROWS × VECTORS accumulators in registers through the whole sum, then the bias and SiLU before
/// they are stored. ROWS and VECTORS are constants at every call, so the loops unroll.
static inline __attribute__((always_inline)) void kernel_dense_block(
    const int ROWS, const int VECTORS, long inputs, const float *x, long ldx, const float *w, long ldw,
    const float *bias, int silu, float *out, long ldo) {
  sdekit_float16 acc[SDEKIT_DENSE_ROWS][SDEKIT_DENSE_VECTORS];
  for (int r = 0; r < ROWS; r++) for (int v = 0; v < VECTORS; v++) acc[r][v] = 0.0f;
  for (long k = 0; k < inputs; k++) {
    sdekit_float16 weight[SDEKIT_DENSE_VECTORS];
    for (int v = 0; v < VECTORS; v++) weight[v] = *(const kernel_float16_unaligned *)(w + k * ldw + 16 * v);
    for (int r = 0; r < ROWS; r++) {
      sdekit_float16 input = x[r * ldx + k];
      for (int v = 0; v < VECTORS; v++) acc[r][v] = __builtin_elementwise_fma(input, weight[v], acc[r][v]);
    }
  }
  for (int r = 0; r < ROWS; r++) {
    for (int v = 0; v < VECTORS; v++) {
      *(kernel_float16_unaligned *)(out + r * ldo + 16 * v) =
          kernel_bias_silu16(acc[r][v], *(const kernel_float16_unaligned *)(bias + 16 * v), silu);
    }
  }
}

/// One dense layer over `rows` rows: out[r·ldo + o] = act(Σ_k x[r·ldx + k]·w[k·ldw + o] + bias[o])
/// for o < width, with the sum in k order by fused multiply–adds and act SiLU when `silu`, else
/// the identity. The weights are by input (w[k·ldw + o] = W_ok), and `width` is the number of
/// outputs rounded up to a multiple of 16: the weights and biases of the outputs past the real
/// ones are zero, and so their results. Blocks of SDEKIT_DENSE_ROWS rows × SDEKIT_DENSE_VECTORS
/// vectors of 16 outputs (the level's choice: as many accumulators as its registers hold), then
/// the leftover rows and vectors one at a time, each output with the same arithmetic.
static inline void kernel_dense_f32(long rows, long inputs, long width, const float *x, long ldx, const float *w,
                                    long ldw, const float *bias, int silu, float *out, long ldo) {
  const int R = SDEKIT_DENSE_ROWS, V = SDEKIT_DENSE_VECTORS;
  long r = 0;
  for (; r + R <= rows; r += R) {
    long c = 0;
    for (; c + 16 * V <= width; c += 16 * V) {
      kernel_dense_block(R, V, inputs, x + r * ldx, ldx, w + c, ldw, bias + c, silu, out + r * ldo + c, ldo);
    }
    for (; c < width; c += 16) {
      kernel_dense_block(R, 1, inputs, x + r * ldx, ldx, w + c, ldw, bias + c, silu, out + r * ldo + c, ldo);
    }
  }
  for (; r < rows; r++) {
    long c = 0;
    for (; c + 16 * V <= width; c += 16 * V) {
      kernel_dense_block(1, V, inputs, x + r * ldx, ldx, w + c, ldw, bias + c, silu, out + r * ldo + c, ldo);
    }
    for (; c < width; c += 16) {
      kernel_dense_block(1, 1, inputs, x + r * ldx, ldx, w + c, ldw, bias + c, silu, out + r * ldo + c, ldo);
    }
  }
}

/// z ← z + bias (along each row of `width` values; bias NULL: no addition, so −0 stays −0), then
/// SiLU when `silu`, for `count` values: sixteen at a time, the last few of each row through one
/// zero-padded vector, so every value takes the same operations as in the dense layers.
static inline void kernel_bias_silu_f32(float *z, long count, const float *bias, long width, int silu) {
  for (long start = 0; start < count; start += width) {
    long n = count - start < width ? count - start : width;
    long e = 0;
    for (; e + 16 <= n; e += 16) {
      sdekit_float16 lanes = *(const kernel_float16_unaligned *)(z + start + e);
      if (bias) lanes = lanes + *(const kernel_float16_unaligned *)(bias + e);
      if (silu) lanes = kernel_silu16(lanes);
      *(kernel_float16_unaligned *)(z + start + e) = lanes;
    }
    if (e < n) {
      sdekit_float16 lanes = 0.0f;
      for (long i = e; i < n; i++) lanes[i - e] = z[start + i];
      if (bias) {
        sdekit_float16 b = 0.0f;
        for (long i = e; i < n; i++) b[i - e] = bias[i];
        lanes = lanes + b;
      }
      if (silu) lanes = kernel_silu16(lanes);
      for (long i = e; i < n; i++) z[start + i] = lanes[i - e];
    }
  }
}
