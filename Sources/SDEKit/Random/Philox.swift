import CSIMDMath

/// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror & Shaw, "Parallel random
/// numbers: as easy as 1, 2, 3" (SC 2011).
///
/// A pure function of a 128-bit counter and a 64-bit key: any block of the stream is computed
/// directly, so a sample's random numbers do not depend on the order or the thread that asks
/// for them. SDEKit keys it by the seed and indexes it by (sample row, step, block).
public struct Philox4x32: Sendable, Hashable {
  public let key: SIMD2<UInt32>

  @inlinable
  public init(key: SIMD2<UInt32>) { self.key = key }

  /// The generator keyed by a 64-bit seed (low word first).
  @inlinable
  public init(seed: UInt64) {
    self.key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
  }

  /// The four 32-bit words for `counter`: ten rounds, the key bumped by the Weyl constants
  /// between rounds.
  @inlinable
  public func block(_ counter: SIMD4<UInt32>) -> SIMD4<UInt32> {
    let words = block(counter.x, counter.y, counter.z, counter.w)
    return SIMD4(words.0, words.1, words.2, words.3)
  }

  /// The same block on plain words, in scalar arithmetic: the ziggurat's rare second draws take
  /// one block at a time, and running the eight-lane form for one lane made the generator cost
  /// 7.9 instead of 4.9 ns per number. The known-answer test checks it; the lane test checks
  /// `blocks` against it.
  @inlinable
  public func block(_ c0: UInt32, _ c1: UInt32, _ c2: UInt32, _ c3: UInt32)
    -> (UInt32, UInt32, UInt32, UInt32) {
    var (x0, x1, x2, x3) = (c0, c1, c2, c3)
    var k0 = key.x, k1 = key.y
    for round in 0..<10 {
      let p0 = UInt64(x0) &* 0xD251_1F53, p1 = UInt64(x2) &* 0xCD9E_8D57
      (x0, x1, x2, x3) = (UInt32(truncatingIfNeeded: p1 >> 32) ^ x1 ^ k0, UInt32(truncatingIfNeeded: p1),
                          UInt32(truncatingIfNeeded: p0 >> 32) ^ x3 ^ k1, UInt32(truncatingIfNeeded: p0))
      if round < 9 {
        k0 = k0 &+ 0x9E37_79B9
        k1 = k1 &+ 0xBB67_AE85
      }
    }
    return (x0, x1, x2, x3)
  }

  /// Eight blocks at once, one per lane: lane ℓ of the result is `block(c0, c1, c2[ℓ], c3[ℓ])`.
  /// (`sdekit_philox8` in CSIMDMath: words in 64-bit lanes, so the 32×32 → 64-bit products
  /// vectorise.)
  @inlinable @inline(__always)
  public func blocks(_ c0: UInt32, _ c1: UInt32, _ c2: SIMD8<UInt64>, _ c3: SIMD8<UInt64>)
    -> (SIMD8<UInt64>, SIMD8<UInt64>, SIMD8<UInt64>, SIMD8<UInt64>) {
    var words = (SIMD8<UInt64>(), SIMD8<UInt64>(), SIMD8<UInt64>(), SIMD8<UInt64>())
    withUnsafeMutableBytes(of: &words) { raw in
      sdekit_philox8(c0, c1, c2, c3, key.x, key.y, OpaquePointer(raw.baseAddress!))
    }
    return words
  }
}
