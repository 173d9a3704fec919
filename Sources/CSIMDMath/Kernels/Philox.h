// Philox4x32-10 on eight blocks at once (Philox.swift has the scalar form and the reference).
// Part of one level's kernels: included by Kernels.h only.

/// One Philox4x32 round on eight blocks, words in the low halves of 64-bit lanes (so each
/// 32×32 → 64-bit product is one instruction). The high halves are left as they come between
/// rounds: every word next reaches a product, which reads only its low half (AVX-512's unsigned
/// 32-bit multiply, or the mask before the portable one), or the output, which clears them (with
/// AVX-512 two instructions fewer per round; W3 −2 %).
static inline __attribute__((always_inline)) void kernel_philox_round8(sdekit_ulong8 x[4], unsigned k0, unsigned k1) {
#if SDEKIT_USE_AVX512
  sdekit_ulong8 p0 = (sdekit_ulong8)_mm512_mul_epu32((__m512i)x[0], _mm512_set1_epi64(0xD2511F53ll));
  sdekit_ulong8 p1 = (sdekit_ulong8)_mm512_mul_epu32((__m512i)x[2], _mm512_set1_epi64(0xCD9E8D57ll));
#else
  const sdekit_ulong8 low = 0xFFFFFFFFull;
  sdekit_ulong8 p0 = (x[0] & low) * 0xD2511F53ull, p1 = (x[2] & low) * 0xCD9E8D57ull;
#endif
  x[0] = (p1 >> 32) ^ x[1] ^ (unsigned long long)k0;
  x[2] = (p0 >> 32) ^ x[3] ^ (unsigned long long)k1;
  x[1] = p1;
  x[3] = p0;
}

/// Philox4x32-10 on eight counters (c0, c1, c2[ℓ], c3[ℓ]) under the key (k0, k1): word j of
/// block ℓ in lane ℓ of words[j]. Written in C rather than Swift: compiled by clang, the rounds
/// stay in whole 512-bit registers where the CPU has them, where the same loop in Swift was split
/// into halves with shuffles between them (normals 3.9 → 3.0 ns per number on a Zen 4 core).
static inline __attribute__((always_inline)) void kernel_philox8(unsigned c0, unsigned c1, sdekit_ulong8 c2,
                                                                 sdekit_ulong8 c3, unsigned k0, unsigned k1,
                                                                 sdekit_ulong8 *words) {
  sdekit_ulong8 x[4] = {(unsigned long long)c0, (unsigned long long)c1, c2, c3};
  for (int round = 0; round < 10; round++, k0 += 0x9E3779B9u, k1 += 0xBB67AE85u) kernel_philox_round8(x, k0, k1);
  for (int j = 0; j < 4; j++) words[j] = x[j] & 0xFFFFFFFFull;
}

/// kernel_philox8 for the counters (c0, …) and (c0 + 1, …) side by side, words to a[0 ..< 4] and
/// b[0 ..< 4]: each block is a chain of ten dependent rounds, and two chains interleaved keep the
/// multipliers busy where one leaves them waiting (normals 2.6 → 1.9 ns per number with the
/// copies that follow, two per row).
static inline __attribute__((always_inline)) void kernel_philox8x2(unsigned c0, unsigned c1, sdekit_ulong8 c2,
                                                                   sdekit_ulong8 c3, unsigned k0, unsigned k1,
                                                                   sdekit_ulong8 *a, sdekit_ulong8 *b) {
  sdekit_ulong8 x[4] = {(unsigned long long)c0, (unsigned long long)c1, c2, c3};
  sdekit_ulong8 y[4] = {(unsigned long long)c0 + 1, (unsigned long long)c1, c2, c3};
  for (int round = 0; round < 10; round++, k0 += 0x9E3779B9u, k1 += 0xBB67AE85u) {
    kernel_philox_round8(x, k0, k1);
    kernel_philox_round8(y, k0, k1);
  }
  for (int j = 0; j < 4; j++) a[j] = x[j] & 0xFFFFFFFFull, b[j] = y[j] & 0xFFFFFFFFull;
}
