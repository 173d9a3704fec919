// The ziggurat's candidates from Philox words, and the copy of a group of normals into rows
// (Ziggurat.swift and Normals.swift describe the method and the layout). Part of one level's
// kernels: included by Kernels.h only.

/// Bit ℓ set for each lane ℓ where |x| < limit does not hold.
static inline __attribute__((always_inline)) int kernel_not_below8(sdekit_double8 x, sdekit_double8 limit) {
#if SDEKIT_USE_AVX512
  // One comparison into a mask register, where the portable form below becomes a masked move and
  // a seven-instruction reduction.
  return (int)_mm512_cmp_pd_mask((__m512d)__builtin_elementwise_abs(x), (__m512d)limit, _CMP_NLT_UQ);
#else
  sdekit_long8 below = (sdekit_long8)(__builtin_elementwise_abs(x) < limit);
  sdekit_long8 bits = {1, 2, 4, 8, 16, 32, 64, 128};
  return (int)__builtin_reduce_or(~below & bits);
#endif
}

/// table[2i] and table[2i + 1] for each lane's i in `index`: one 16-byte load per lane with
/// AVX-512, where two tables took two loads and two inserts per lane.
static inline __attribute__((always_inline)) void kernel_gather_pairs8(const double *table, sdekit_long8 index,
                                                                       sdekit_double8 *first, sdekit_double8 *second) {
#if SDEKIT_USE_AVX512
  __m512d a = _mm512_castpd128_pd512(_mm_loadu_pd(table + 2 * index[0]));
  a = _mm512_insertf64x2(a, _mm_loadu_pd(table + 2 * index[1]), 1);
  a = _mm512_insertf64x2(a, _mm_loadu_pd(table + 2 * index[2]), 2);
  a = _mm512_insertf64x2(a, _mm_loadu_pd(table + 2 * index[3]), 3);
  __m512d b = _mm512_castpd128_pd512(_mm_loadu_pd(table + 2 * index[4]));
  b = _mm512_insertf64x2(b, _mm_loadu_pd(table + 2 * index[5]), 1);
  b = _mm512_insertf64x2(b, _mm_loadu_pd(table + 2 * index[6]), 2);
  b = _mm512_insertf64x2(b, _mm_loadu_pd(table + 2 * index[7]), 3);
  *first = (sdekit_double8)_mm512_permutex2var_pd(a, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), b);
  *second = (sdekit_double8)_mm512_permutex2var_pd(a, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), b);
#else
  sdekit_long8 i = 2 * index;
  *first = (sdekit_double8){table[i[0]], table[i[1]], table[i[2]], table[i[3]],
                            table[i[4]], table[i[5]], table[i[6]], table[i[7]]};
  i += 1;
  *second = (sdekit_double8){table[i[0]], table[i[1]], table[i[2]], table[i[3]],
                             table[i[4]], table[i[5]], table[i[6]], table[i[7]]};
#endif
}

/// The ziggurat's candidates for eight 32-bit words (in 64-bit lanes): layer i = w mod 1024 and
/// x = (⌊w/1024⌋ − 2²¹ + ½)·step_i; *rejected gets bit ℓ set for each lane ℓ whose candidate is
/// not accepted at once (|x| ≥ inner_i). `layers` holds (step_i, inner_i) for each i. See
/// Ziggurat.swift.
static inline __attribute__((always_inline)) sdekit_double8 kernel_ziggurat_candidates8(
    sdekit_ulong8 words, const double *layers, int *rejected) {
  sdekit_long8 layer = (sdekit_long8)(words & ((1u << SDEKIT_ZIGGURAT_LAYER_BITS) - 1));
  // ⌊w/1024⌋ − 2²¹ + ½, exactly: the 2⁵² trick turns the 22-bit integer into a double, then the
  // offset (2⁵² + 2²¹ − ½ in one step would round to an integer).
  sdekit_ulong8 bits = (words >> SDEKIT_ZIGGURAT_LAYER_BITS) | 0x4330000000000000ull;
  sdekit_double8 lattice = ((sdekit_double8)bits - 4503599627370496.0) -
                           ((double)(1u << (31 - SDEKIT_ZIGGURAT_LAYER_BITS)) - 0.5);
  sdekit_double8 step, inner;
  kernel_gather_pairs8(layers, layer, &step, &inner);
  sdekit_double8 x = lattice * step;
  *rejected = kernel_not_below8(x, inner);
  return x;
}

/// a₀ b₀ c₀ d₀ a₁ b₁ c₁ d₁ … a₇ b₇ c₇ d₇ written to out[0 ..< 32]: four vectors in row order.
static inline __attribute__((always_inline)) void kernel_interleave4(sdekit_double8 a, sdekit_double8 b,
                                                                     sdekit_double8 c, sdekit_double8 d,
                                                                     double *out) {
  sdekit_double8 abLow = __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
  sdekit_double8 abHigh = __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
  sdekit_double8 cdLow = __builtin_shufflevector(c, d, 0, 8, 1, 9, 2, 10, 3, 11);
  sdekit_double8 cdHigh = __builtin_shufflevector(c, d, 4, 12, 5, 13, 6, 14, 7, 15);
  *(sdekit_double8_unaligned *)out = __builtin_shufflevector(abLow, cdLow, 0, 1, 8, 9, 2, 3, 10, 11);
  *(sdekit_double8_unaligned *)(out + 8) = __builtin_shufflevector(abLow, cdLow, 4, 5, 12, 13, 6, 7, 14, 15);
  *(sdekit_double8_unaligned *)(out + 16) = __builtin_shufflevector(abHigh, cdHigh, 0, 1, 8, 9, 2, 3, 10, 11);
  *(sdekit_double8_unaligned *)(out + 24) = __builtin_shufflevector(abHigh, cdHigh, 4, 5, 12, 13, 6, 7, 14, 15);
}

/// One index's 32 candidates from its four word vectors: stored in row order at values[0 ..< 32]
/// (lane ℓ of word j is row 4ℓ + j), the words themselves at words[0 ..< 4] for the rare second
/// draws, and the rejected lanes returned (bit 8j + ℓ).
static inline __attribute__((always_inline)) unsigned kernel_normal_candidates32(
    const sdekit_ulong8 *block, const double *layers, double *values, sdekit_ulong8 *words) {
  int r0, r1, r2, r3;
  sdekit_double8 z0 = kernel_ziggurat_candidates8(block[0], layers, &r0);
  sdekit_double8 z1 = kernel_ziggurat_candidates8(block[1], layers, &r1);
  sdekit_double8 z2 = kernel_ziggurat_candidates8(block[2], layers, &r2);
  sdekit_double8 z3 = kernel_ziggurat_candidates8(block[3], layers, &r3);
  kernel_interleave4(z0, z1, z2, z3, values);
  for (int j = 0; j < 4; j++) words[j] = block[j];
  return (unsigned)r0 | (unsigned)r1 << 8 | (unsigned)r2 << 16 | (unsigned)r3 << 24;
}

/// The candidates of indices 0 ..< count of one group of eight quads: index i's Philox blocks at
/// counters (i, c1, c2[ℓ], c3[ℓ]) under the key (k0, k1), its candidates at values[32i …], its
/// words at words[4i …] and its rejected lanes at rejections[i]. Returns the OR of the
/// rejections. Indices go two at a time (kernel_philox8x2). Always inlined: compiled as a function
/// of its own, its round keys were kept on the stack and the normals took 20 % longer.
static inline __attribute__((always_inline)) unsigned kernel_normal_candidates(
    long count, unsigned c1, sdekit_ulong8 c2, sdekit_ulong8 c3, unsigned k0, unsigned k1, const double *layers,
    double *values, sdekit_ulong8 *words, unsigned *rejections) {
  unsigned any = 0;
  long i = 0;
  for (; i + 2 <= count; i += 2) {
    sdekit_ulong8 a[4], b[4];
    kernel_philox8x2((unsigned)i, c1, c2, c3, k0, k1, a, b);
    rejections[i] = kernel_normal_candidates32(a, layers, values + 32 * i, words + 4 * i);
    rejections[i + 1] = kernel_normal_candidates32(b, layers, values + 32 * (i + 1), words + 4 * (i + 1));
    any |= rejections[i] | rejections[i + 1];
  }
  if (i < count) {
    sdekit_ulong8 a[4];
    kernel_philox8((unsigned)i, c1, c2, c3, k0, k1, a);
    rejections[i] = kernel_normal_candidates32(a, layers, values + 32 * i, words + 4 * i);
    any |= rejections[i];
  }
  return any;
}

/// A whole group's 32 rows of `count` numbers (number i of row o at columns[32i + o], columns
/// 64-byte aligned) written row-major and scaled to out. Two-value rows interleave two columns,
/// wider rows take 8 × 8 transposes (then the numbers past the last multiple of eight one by
/// one); element by element this copy cost a third of the generator's time.
static inline void kernel_normal_group_rows(const double *columns, long count, double scale, double *out) {
  if (count == 1) {
    for (int o = 0; o < 32; o++) out[o] = scale * columns[o];
    return;
  }
  if (count == 2) {
    for (int block = 0; block < 32; block += 8) {
      sdekit_double8 first = *(const sdekit_double8 *)(columns + block);
      sdekit_double8 second = *(const sdekit_double8 *)(columns + 32 + block);
      sdekit_interleave2(scale * first, scale * second, out + 2 * block);
    }
    return;
  }
  long whole = count & ~7l;
  for (int block = 0; block < 32; block += 8) {
    double *rowStart = out + block * count;
    for (long i = 0; i < whole; i += 8) sdekit_transpose8(columns + (i * 32 + block), 32, scale, rowStart + i, count);
    for (int row = 0; row < 8; row++) {
      for (long i = whole; i < count; i++) rowStart[row * count + i] = scale * columns[i * 32 + block + row];
    }
  }
}
