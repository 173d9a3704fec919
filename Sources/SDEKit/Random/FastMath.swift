/// The logarithm and the sine and cosine that Box–Muller needs, on eight lanes at once.
///
/// Two reasons not to call libm: speed (libm is scalar and was 70 % of the generator's time;
/// these polynomials run on SIMD lanes) and reproducibility (glibc chooses code paths by CPU,
/// so its last bits can differ between machines; this is plain IEEE arithmetic without fused
/// multiply–adds, so every machine gets the same bits).
@usableFromInline
enum BoxMullerMath {
  public typealias Lanes = SIMD8<Double>

  /// ln(u) for normal, positive, finite u; error within a few ulp.
  ///
  /// u = m·2ᵉ with m ∈ [√½, √2); ln m = 2 artanh(s) with s = (m − 1)/(m + 1), |s| ≤ 0.1716,
  /// summed as 2s Σ s²ᵏ/(2k + 1) to k = 10 (truncation below 1e-17).
  @inlinable @inline(__always)
  static func log(_ u: Lanes) -> Lanes {
    // Subtracting the bits of √½ puts the exponent of m ∈ [√½, √2) in the top bits; the
    // 1024·2⁵² offset keeps the difference positive so a logical shift suffices. Only integer
    // lane operations: Swift's SIMD masks go through memory one lane at a time.
    let bits = unsafeBitCast(u, to: SIMD8<UInt64>.self)
    let shifted = bits &+ (1024 << 52) &- 0x3FE6_A09E_667F_3BCD
    let biasedExponent = shifted &>> 52
    let m = unsafeBitCast(bits &- ((biasedExponent &- 1024) &<< 52), to: Lanes.self)
    let e = unsafeBitCast(biasedExponent | 0x4330_0000_0000_0000, to: Lanes.self) - (4_503_599_627_370_496 + 1024)
    let f = m - 1
    let s = f / (2 + f)
    let z = s * s
    // Estrin's scheme: pairs of coefficients joined by z², z⁴, z⁸ — a dependency chain of 8
    // operations instead of Horner's 20, so consecutive groups of rows overlap in the pipelines.
    let z2 = z * z, z4 = z2 * z2, z8 = z4 * z4
    let low = estrin9(z, z2, z4, z8, (
      2, 0.666_666_666_666_666_6, 0.4, 0.285_714_285_714_285_7, 0.222_222_222_222_222_22,
      0.181_818_181_818_181_82, 0.153_846_153_846_153_85, 0.133_333_333_333_333_33,
      0.117_647_058_823_529_41, 0.105_263_157_894_736_84))
    let high: Lanes = z2 * 0.095_238_095_238_095_23
    let p = low + z8 * high  // the z¹⁰ term last
    // ln 2 split in a head and a tail so that e·ln 2 keeps full precision.
    return e * 0.693_147_180_559_945_3 + (e * 2.319_046_813_846_299_6e-17 + s * p)
  }

  /// c₀ + c₁z + … + c₉z⁹ in Estrin's scheme, given z², z⁴ and z⁸.
  @inlinable @inline(__always)
  static func estrin9(_ z: Lanes, _ z2: Lanes, _ z4: Lanes, _ z8: Lanes,
                      _ c: (Double, Double, Double, Double, Double, Double, Double, Double, Double, Double))
    -> Lanes {
    let low = ((c.0 + z * c.1) + z2 * (c.2 + z * c.3)) + z4 * ((c.4 + z * c.5) + z2 * (c.6 + z * c.7))
    return low + z8 * (c.8 + z * c.9)
  }

  /// (sin 2πt, cos 2πt) for t ∈ [0, 1); absolute error below 1e-15.
  ///
  /// 4t = n + r exactly, with n the nearest integer (a quadrant, 4 ≡ 0) and |r| ≤ ½; sin(πr/2) and cos(πr/2)
  /// are Taylor polynomials in r to degree 19 and 18 (truncation below 1e-17).
  @inlinable @inline(__always)
  static func sinCos(turns t: Lanes) -> (sin: Lanes, cos: Lanes) {
    let q = 4 * t
    // Round to nearest by adding and subtracting 1.5·2⁵² (exact for 0 ≤ q < 4; no libm floor);
    // the low bits of the sum are n mod 4.
    let shifted = q + 6_755_399_441_055_744
    let n = shifted - 6_755_399_441_055_744
    let quadrant = unsafeBitCast(shifted, to: SIMD8<UInt64>.self) & 3
    let r = q - n
    let z = r * r
    // Both polynomials in Estrin's scheme (see `log`), sharing the powers of z.
    let z2 = z * z, z4 = z2 * z2, z8 = z4 * z4
    let s = r * estrin9(z, z2, z4, z8, (
      1.570_796_326_794_896_6, -0.645_964_097_506_246_3, 0.079_692_626_246_167_05,
      -0.004_681_754_135_318_688, 0.000_160_441_184_787_359_83, -3.598_843_235_212_085e-06,
      5.692_172_921_967_927e-08, -6.688_035_109_811_468e-10, 6.066_935_731_106_195_5e-12,
      -4.377_065_467_313_742e-14))
    let c = estrin9(z, z2, z4, z8, (
      1, -1.233_700_550_136_169_7, 0.253_669_507_901_048_03, -0.020_863_480_763_352_96,
      0.000_919_260_274_839_426_6, -2.520_204_237_306_060_7e-05, 4.710_874_778_818_172e-07,
      -6.386_603_083_791_852e-09, 6.565_963_114_979_473e-11, -5.294_400_200_734_623e-13))
    // Quadrant n mod 4: (sin, cos) = (s, c), (c, −s), (−s, −c), (−c, s), chosen with bit masks.
    let sBits = unsafeBitCast(s, to: SIMD8<UInt64>.self), cBits = unsafeBitCast(c, to: SIMD8<UInt64>.self)
    let swap = SIMD8<UInt64>(repeating: 0) &- (quadrant & 1)
    let sineNegative = (quadrant &>> 1) &<< 63
    let cosineNegative = ((quadrant ^ (quadrant &>> 1)) & 1) &<< 63
    let sine = unsafeBitCast(((cBits & swap) | (sBits & ~swap)) ^ sineNegative, to: Lanes.self)
    let cosine = unsafeBitCast(((sBits & swap) | (cBits & ~swap)) ^ cosineNegative, to: Lanes.self)
    return (sine, cosine)
  }
}
