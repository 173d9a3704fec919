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
  /// u = m·2ᵉ with m ∈ [√½, √2); ln m = 2 artanh(s) = s·p(s²) with s = (m − 1)/(m + 1),
  /// |s| ≤ 0.1716, and p the minimax polynomial of degree 7 for 2 artanh(s)/s on that range
  /// (relative error 2.3e-18; `tools/minimax.py`).
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
    // Estrin's scheme: pairs of coefficients joined by z² and z⁴ — a dependency chain of 6
    // operations instead of Horner's 14, so consecutive groups of rows overlap in the pipelines.
    let z2 = z * z, z4 = z2 * z2
    let p = estrin8(z, z2, z4, (
      2, 0.666_666_666_666_671, 0.399_999_999_995_201_14, 0.285_714_287_292_042_3,
      0.222_221_991_003_786_2, 0.181_835_709_984_445_93, 0.153_131_792_773_929_16,
      0.148_103_626_398_194_22))
    // ln 2 split in a head and a tail so that e·ln 2 keeps full precision.
    return e * 0.693_147_180_559_945_3 + (e * 2.319_046_813_846_299_6e-17 + s * p)
  }

  /// c₀ + c₁z + … + c₇z⁷ in Estrin's scheme, given z² and z⁴.
  @inlinable @inline(__always)
  static func estrin8(_ z: Lanes, _ z2: Lanes, _ z4: Lanes,
                      _ c: (Double, Double, Double, Double, Double, Double, Double, Double)) -> Lanes {
    ((c.0 + z * c.1) + z2 * (c.2 + z * c.3)) + z4 * ((c.4 + z * c.5) + z2 * (c.6 + z * c.7))
  }

  /// (sin 2πt, cos 2πt) for t ∈ [0, 1); absolute error below 1e-15.
  ///
  /// 4t = n + r exactly, with n the nearest integer (a quadrant, 4 ≡ 0) and |r| ≤ ½;
  /// sin(πr/2) = r·P(r²) and cos(πr/2) = Q(r²) with P and Q the minimax polynomials of degree 6
  /// and 7 on r² ∈ [0, ¼] (absolute errors 2.5e-18 and 6.1e-20; `tools/minimax.py`).
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
    let z2 = z * z, z4 = z2 * z2
    let s = r * (((1.570_796_326_794_896_6 + z * -0.645_964_097_506_237_2)
                  + z2 * (0.079_692_626_245_813_01 + z * -0.004_681_754_129_187_019))
                 + z4 * ((0.000_160_441_129_717_161_08 + z * -3.598_576_076_411_651e-06) + z2 * 5.625_653_949_714_484e-08))
    let c = estrin8(z, z2, z4, (
      1, -1.233_700_550_136_169_7, 0.253_669_507_901_047_14, -0.020_863_480_763_318_17,
      0.000_919_260_274_236_879_1, -2.520_203_696_171_001e-05, 4.710_612_286_370_458_5e-07,
      -6.321_258_921_032_388e-09))
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
