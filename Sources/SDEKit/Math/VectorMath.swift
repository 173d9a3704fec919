import CSIMDMath

/// Elementary functions on eight lanes of doubles, for hot loops over samples (the softmax of
/// mixture scores, the ziggurat's tables and tail). Two reasons not to call libm: speed (libm is
/// scalar) and reproducibility (glibc chooses code paths by CPU, so its last bits can differ
/// between machines). These are IEEE operations, each rounded once — the exp's fused
/// multiply–adds included, whether the CPU has the instruction or libm's fma() stands in — with
/// lane choices through CSIMDMath (Swift's SIMD masks run lane by lane on Linux), so every machine,
/// every SIMD level (`SIMDLevel`) and every lane position gets the same bits.
public enum VectorMath {
  public typealias Lanes = SIMD8<Double>

  /// eˣ for x ≤ 709; within 1 ulp of the true value for x ≥ −708, and 0 below −708 (results
  /// that would be subnormal are flushed: for a softmax they are 10³⁰⁸ times below the largest
  /// term, which is 1).
  ///
  /// x = (16n + j) ln 2/16 + r with 16n + j the nearest integer to 16x/ln 2, 0 ≤ j < 16 and
  /// |r| ≤ ln 2/32 (ln 2/16 split in a head with 32 significant bits, so the product with the
  /// integer is exact, and a tail); eˣ = 2ⁿ · 2^(j/16) · eʳ, with 2^(j/16) from a 16-entry table
  /// (`sdekit_exp2_sixteenth8`), 2ⁿ added to its exponent bits, and eʳ − 1 as r + r²(…), the
  /// minimax polynomial of degree 6 for the relative error (1.2e-17; `tools/minimax.py`), by
  /// Horner's rule. The table halves the polynomial of a plain reduction to |r| ≤ ½ ln 2
  /// (degree 11): this function is most of a mixture score's time. Fused multiply–adds made it
  /// 0.58 → 0.45 ns per value on a Zen 4 core. This is one call into the kernels of the
  /// process's `SIMDLevel` (`sdekit_exp8`); loops over many vectors call a kernel that runs the
  /// whole loop (`exponentials`).
  @inlinable @inline(__always)
  public static func exp(_ x: Lanes) -> Lanes { sdekit_exp8(x) }

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

  /// terms[k] ← exp(terms[k] − largest) for every k, and their sum (in k order): one kernel call
  /// for the loop. `terms` must start on a 64-byte boundary (`withAlignedTemporaryAllocation`).
  @inlinable @inline(__always)
  public static func exponentials(_ terms: UnsafeMutableBufferPointer<Lanes>, minus largest: Lanes) -> Lanes {
    var largest = largest, total = Lanes()
    let values = UnsafeMutableRawPointer(terms.baseAddress!).assumingMemoryBound(to: Double.self)
    withUnsafePointer(to: &largest) { largest in
      withUnsafeMutablePointer(to: &total) { total in
        sdekit_exponentials(values, terms.count, UnsafeRawPointer(largest).assumingMemoryBound(to: Double.self),
                            UnsafeMutableRawPointer(total).assumingMemoryBound(to: Double.self))
      }
    }
    return total
  }

  /// The lanes of `b` where `b > a`, else those of `a` (so ties keep `a`).
  @inlinable @inline(__always)
  public static func select(_ a: Lanes, orGreater b: Lanes) -> Lanes { sdekit_select_greater8(a, b) }

  /// A temporary buffer of `capacity` values of `type` that starts on a 64-byte boundary. Swift
  /// aligns `SIMD8<Double>` to 16 bytes only, so three in four vectors of an ordinary buffer
  /// straddle two cache lines, and each load or store of one costs two.
  @inlinable @inline(__always)
  public static func withAlignedTemporaryAllocation<T, R>(
    of type: T.Type, capacity: Int, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
  ) rethrows -> R {
    try withUnsafeTemporaryAllocation(byteCount: capacity * MemoryLayout<T>.stride, alignment: 64) { raw in
      try body(raw.bindMemory(to: T.self))
    }
  }

  /// `count` zeros on a 64-byte boundary, for buffers that vector loops stream through (malloc
  /// aligns large blocks to 16 bytes, so a 512-bit vector would straddle two cache lines). The
  /// caller deallocates it.
  public static func allocateAligned(zeros count: Int) -> UnsafeMutableBufferPointer<Double> {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Double>.stride, alignment: 64)
    let buffer = UnsafeMutableBufferPointer(start: raw.bindMemory(to: Double.self, capacity: count), count: count)
    buffer.initialize(repeating: 0)
    return buffer
  }

  /// Eight rows of `d` values at `rows` (row-major) as `d` column vectors in `columns`: lane ℓ
  /// of column j is rows[ℓd + j]. Two-value rows take two loads and two shuffles per pair of
  /// columns; wider rows go eight columns at a time through 8 × 8 transposes (scale 1 is exact),
  /// and the remaining columns are built from eight loads in registers (lane-by-lane stores into
  /// a vector would stall on reloading it).
  @inlinable @inline(__always)
  public static func loadColumns(ofEightRows rows: UnsafePointer<Double>, dimension d: Int,
                                 into columns: UnsafeMutablePointer<Lanes>) {
    if d == 2 {
      columns[0] = sdekit_first_of_pairs(rows)
      columns[1] = sdekit_second_of_pairs(rows)
      return
    }
    let values = UnsafeMutableRawPointer(columns).assumingMemoryBound(to: Double.self)
    let wholeColumns = d & ~7
    for j in stride(from: 0, to: wholeColumns, by: 8) { sdekit_transpose8(rows + j, d, 1, values + 8 &* j, 8) }
    for j in wholeColumns..<d {
      let p = rows + j
      columns[j] = Lanes(p[0], p[d], p[2 * d], p[3 * d], p[4 * d], p[5 * d], p[6 * d], p[7 * d])
    }
  }

  /// The first `count` (≤ 8) rows of the `d` column vectors in `columns`, written row-major to
  /// `rows`: eight whole rows by 8 × 8 transposes, the rest lane by lane, read back from memory
  /// (taken out of registers one by one, the lanes let the optimiser turn the vector arithmetic
  /// that produced them into scalar code).
  @inlinable @inline(__always)
  public static func storeRows(_ count: Int, ofColumns columns: UnsafePointer<Lanes>, dimension d: Int,
                               to rows: UnsafeMutablePointer<Double>) {
    if d == 2, count == 8 {
      sdekit_interleave2(columns[0], columns[1], rows)
      return
    }
    let values = UnsafeRawPointer(columns).assumingMemoryBound(to: Double.self)
    var j = 0
    if count == 8 {
      while j + 8 <= d {
        sdekit_transpose8(values + 8 &* j, 8, 1, rows + j, d)
        j += 8
      }
    }
    for row in 0..<count {
      for column in j..<d { rows[row &* d &+ column] = values[column &* 8 &+ row] }
    }
  }

  /// eˣ in single precision on any number of lanes, within a few ulp for x ∈ [−87, 88], 0 below
  /// −87 (the same scheme as the double version: n = nearest x/ln 2, Taylor polynomial of eʳ to
  /// degree 7 for |r| ≤ ½ ln 2, truncation below 10⁻⁸ relative, 2ⁿ in the exponent bits). Each
  /// lane gets the same bits whatever the width. `SIMD16` (two registers) is about 30 % faster per
  /// lane than `SIMD8`: Horner's rule is a chain of dependent steps, which this VM's CPU overlaps
  /// too little on its own, and two registers step by step interleave two chains. (`SIMD32`
  /// compiled its integer steps lane by lane.)
  @inlinable @inline(__always)
  public static func exp<V: SIMD>(_ x: V) -> V where V.Scalar == Float {
    let low = V(repeating: -87)
    let tooSmall = unsafeBitCast(x - low, to: V.MaskStorage.self) &>> 31
    let xb = unsafeBitCast(x, to: V.MaskStorage.self), lowb = unsafeBitCast(low, to: V.MaskStorage.self)
    let clamped = unsafeBitCast((xb & ~tooSmall) | (lowb & tooSmall), to: V.self)
    let shifted = clamped * 1.442_695 + 12_582_912  // 1.5·2²³
    let n = shifted - 12_582_912
    let r = (clamped - n * 0.693_145_751_953_125) - n * 1.428_606_765_330_187e-06
    var p = V(repeating: 1.0 / 5_040)
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let nBits = unsafeBitCast(shifted, to: V.MaskStorage.self) &- 0x4B40_0000
    let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: V.self)
    return unsafeBitCast(unsafeBitCast(p * scale, to: V.MaskStorage.self) & ~tooSmall, to: V.self)
  }
}
