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
    var c = counter
    var k0 = key.x
    var k1 = key.y
    for round in 0..<10 {
      let p0 = UInt64(0xD251_1F53) &* UInt64(c.x)
      let p1 = UInt64(0xCD9E_8D57) &* UInt64(c.z)
      let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
      let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
      c = SIMD4(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0)
      if round < 9 {
        k0 = k0 &+ 0x9E37_79B9
        k1 = k1 &+ 0xBB67_AE85
      }
    }
    return c
  }
}
