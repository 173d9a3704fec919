// The per-step updates of the solvers over whole batches: the Euler–Maruyama update, Runge–Kutta
// stage sums, and the test for non-finite values. Each is written eight elements at a time with
// explicit vectors, then element by element for the rest: an element's result does not depend on
// which of the two it falls in (the same IEEE operations in the same order), and explicit vectors
// need no proof that the buffers do not overlap (`out` is often also an input, at the same
// index). Part of one level's kernels: included by Kernels.h only.

static inline __attribute__((always_inline)) sdekit_double8 kernel_load8(const double *p) {
  return *(const sdekit_double8_unaligned *)p;
}

static inline __attribute__((always_inline)) void kernel_store8(double *p, sdekit_double8 v) {
  *(sdekit_double8_unaligned *)p = v;
}

static inline void kernel_euler_maruyama_additive(long n, double *x, double h, const double *f, double g,
                                                  const double *dW) {
  long e = 0;
  for (; e + 8 <= n; e += 8) {
    kernel_store8(x + e, kernel_load8(x + e) + (h * kernel_load8(f + e) + g * kernel_load8(dW + e)));
  }
  for (; e < n; e++) x[e] = x[e] + (h * f[e] + g * dW[e]);
}

static inline void kernel_euler_maruyama_diagonal(long n, double *x, double h, const double *f, const double *g,
                                                  const double *dW) {
  long e = 0;
  for (; e + 8 <= n; e += 8) {
    kernel_store8(x + e, kernel_load8(x + e) + (h * kernel_load8(f + e) + kernel_load8(g + e) * kernel_load8(dW + e)));
  }
  for (; e < n; e++) x[e] = x[e] + (h * f[e] + g[e] * dW[e]);
}

/// out = source + Σ_{t < m} c[t]·v[t] (m from 1 to 4), the terms added left to right, in one
/// pass: a stage reads its inputs once instead of reading and writing `out` once per term.
static inline void kernel_stage_pass(long n, double *out, const double *source, long m, const double *c,
                                     const double *const *v) {
  const double *v0 = v[0], *v1 = m > 1 ? v[1] : v0, *v2 = m > 2 ? v[2] : v0, *v3 = m > 3 ? v[3] : v0;
  const double c0 = c[0], c1 = m > 1 ? c[1] : 0, c2 = m > 2 ? c[2] : 0, c3 = m > 3 ? c[3] : 0;
  long e = 0;
  switch (m) {
  case 1:
    for (; e + 8 <= n; e += 8) kernel_store8(out + e, kernel_load8(source + e) + c0 * kernel_load8(v0 + e));
    for (; e < n; e++) out[e] = source[e] + c0 * v0[e];
    break;
  case 2:
    for (; e + 8 <= n; e += 8) {
      kernel_store8(out + e, kernel_load8(source + e) + c0 * kernel_load8(v0 + e) + c1 * kernel_load8(v1 + e));
    }
    for (; e < n; e++) out[e] = source[e] + c0 * v0[e] + c1 * v1[e];
    break;
  case 3:
    for (; e + 8 <= n; e += 8) {
      kernel_store8(out + e, kernel_load8(source + e) + c0 * kernel_load8(v0 + e) + c1 * kernel_load8(v1 + e) +
                                 c2 * kernel_load8(v2 + e));
    }
    for (; e < n; e++) out[e] = source[e] + c0 * v0[e] + c1 * v1[e] + c2 * v2[e];
    break;
  default:
    for (; e + 8 <= n; e += 8) {
      kernel_store8(out + e, kernel_load8(source + e) + c0 * kernel_load8(v0 + e) + c1 * kernel_load8(v1 + e) +
                                 c2 * kernel_load8(v2 + e) + c3 * kernel_load8(v3 + e));
    }
    for (; e < n; e++) out[e] = source[e] + c0 * v0[e] + c1 * v1[e] + c2 * v2[e] + c3 * v3[e];
    break;
  }
}

/// out = source + (c·v)·f in one pass.
static inline void kernel_stage_pass_with_factor(long n, double *out, const double *source, double c,
                                                 const double *v, const double *f) {
  long e = 0;
  for (; e + 8 <= n; e += 8) {
    kernel_store8(out + e, kernel_load8(source + e) + c * kernel_load8(v + e) * kernel_load8(f + e));
  }
  for (; e < n; e++) out[e] = source[e] + c * v[e] * f[e];
}

/// out = base + Σ terms (base NULL: zero), each term added in order, so the bits are those of
/// one pass over memory per term. Up to four terms without a factor share a pass; a term with a
/// factor, (c·v)·f, takes a pass of its own.
static inline void kernel_stage_sum(long n, double *out, const double *base, long count, const double *c,
                                    const double *const *v, const double *const *f) {
  const double *source = base;
  if (!source) {
    for (long e = 0; e < n; e++) out[e] = 0;
    source = out;
  }
  if (count == 0 && source != out) {
    for (long e = 0; e < n; e++) out[e] = source[e];
  }
  long first = 0;
  while (first < count) {
    if (f && f[first]) {
      kernel_stage_pass_with_factor(n, out, source, c[first], v[first], f[first]);
      first += 1;
    } else {
      long m = 1;
      while (m < 4 && first + m < count && !(f && f[first + m])) m++;
      kernel_stage_pass(n, out, source, m, c + first, v + first);
      first += m;
    }
    source = out;
  }
}

/// The iterated integrals a stochastic Runge–Kutta step takes from ΔW (Rößler 2010, with
/// |h| = absH): I₍₁,₁₎ = ½(ΔW² − |h|) to i11 and I₍₁,₁,₁₎ = ΔW(ΔW² − 3|h|)/6 to i111.
static inline void kernel_srk_integrals(long n, const double *dW, double absH, double *i11, double *i111) {
  long e = 0;
  for (; e + 8 <= n; e += 8) {
    sdekit_double8 w = kernel_load8(dW + e);
    kernel_store8(i11 + e, 0.5 * (w * w - absH));
    kernel_store8(i111 + e, w * (w * w - 3 * absH) / 6);
  }
  for (; e < n; e++) {
    double w = dW[e];
    i11[e] = 0.5 * (w * w - absH);
    i111[e] = w * (w * w - 3 * absH) / 6;
  }
}

/// x[e] += g[e]·(b1·ΔW[e] + b2·I₍₁,₁₎[e] + b3·ΔZ[e] + b4·I₍₁,₁,₁₎[e]): one stage's diffusion in a
/// stochastic Runge–Kutta step's update, the four terms added left to right.
static inline void kernel_srk_diffusion_update(long n, double *x, const double *g, double b1, const double *dW,
                                               double b2, const double *i11, double b3, const double *dZ,
                                               double b4, const double *i111) {
  long e = 0;
  for (; e + 8 <= n; e += 8) {
    sdekit_double8 sum = b1 * kernel_load8(dW + e) + b2 * kernel_load8(i11 + e) + b3 * kernel_load8(dZ + e) +
                         b4 * kernel_load8(i111 + e);
    kernel_store8(x + e, kernel_load8(x + e) + kernel_load8(g + e) * sum);
  }
  for (; e < n; e++) x[e] = x[e] + g[e] * (b1 * dW[e] + b2 * i11[e] + b3 * dZ[e] + b4 * i111[e]);
}

/// The index of the first NaN or infinity in values[0 ..< n], or −1. A value is NaN or infinite
/// exactly when its exponent bits are all ones, and then adding one to that field carries into
/// the sign bit: integer ANDs, adds and ORs over the whole buffer make the common all-finite case
/// one fast pass; only a buffer that has one is searched again.
static inline long kernel_first_nonfinite(const double *values, long n) {
  const unsigned long long exponent = 0x7FF0000000000000ull, carry = 1ull << 52;
  sdekit_ulong8 any8 = 0;
  long e = 0;
  for (; e + 8 <= n; e += 8) any8 |= ((sdekit_ulong8)kernel_load8(values + e) & exponent) + carry;
  unsigned long long any = __builtin_reduce_or(any8);
  for (; e < n; e++) {
    unsigned long long bits;
    __builtin_memcpy(&bits, values + e, sizeof bits);
    any |= (bits & exponent) + carry;
  }
  if (!(any >> 63)) return -1;
  for (e = 0; e < n; e++) {
    if (!__builtin_isfinite(values[e])) return e;
  }
  return -1;
}
