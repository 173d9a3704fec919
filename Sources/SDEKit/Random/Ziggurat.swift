import CSIMDMath

/// Marsaglia and Tsang's ziggurat for the standard normal ("The ziggurat method for generating
/// random variables", J. Stat. Softw. 5(8), 2000), with N = 1024 layers of equal area v under
/// f(x) = exp(−x²/2).
///
/// Layer i ≥ 1 is the rectangle of half-width X_i between the heights f(X_i) and f(X_{i+1}),
/// with X₁ = r and X_N = 0. Layer 0 is the base: half-width X₀ = v/f(r), standing for the strip
/// under f(r) and the tail beyond r. (r and v are from `tools/ziggurat.py`.)
///
/// One 32-bit word w makes a candidate. Its layer is i = w mod 1024. Its value is
/// x = (⌊w/1024⌋ − 2²¹ + ½)·X_i/2²¹, a lattice of 2²² points placed symmetrically in (−X_i, X_i),
/// so the sign is exact. The candidate is accepted at once when |x| < X_{i+1}, which happens for
/// 99.57 % of words (the mean of X_{i+1}/X_i). Otherwise `resolve` finishes the draw, one word at
/// a time: the wedge test, the tail, or a new candidate. Each extra word comes from a further
/// Philox block addressed by the same (row, step, index), so a number stays a pure function of
/// its address. A word finished this way costs about 200 cycles: with 256 layers (98.5 %
/// accepted) those cost as much as all the accepted ones, with 512 (99.2 %) a quarter of the
/// generator's time; 1024 layers halve that again, and their lattice spacing is still 2⁻²¹ of
/// the layer's half-width.
@usableFromInline
struct Ziggurat: @unchecked Sendable {
  static let r = 4.038849846109504
  static let v = 0.001226324646353088
  /// N, and the bits of a word that choose the layer (the rest place the candidate).
  static let layerBits = Int(SDEKIT_ZIGGURAT_LAYER_BITS)
  static let layers = 1 << layerBits
  /// 2⁻²¹: a layer's half-width spans 2²¹ lattice steps on each side of 0.
  static let latticeStep = 1 / Double(1 << (31 - layerBits))
  /// 2²¹ − ½: lattice index m (the word's upper 22 bits) sits at (m − (2²¹ − ½)) steps from 0.
  static let latticeCentre = Double(1 << (31 - layerBits)) - 0.5

  /// Layer i's lattice step X_i/2²¹ at 2i and X_{i+1} at 2i + 1 (2N values): the vector
  /// candidates load both with one 16-byte load per lane, where two tables took two loads and two
  /// inserts (normals 1.66 → 1.51 ns per number two per row).
  @usableFromInline let layerTable: UnsafePointer<Double>
  /// f(X_i) for i = 0 … N.
  let density: UnsafePointer<Double>

  /// X_i/2²¹: the lattice step of layer i.
  func step(_ i: Int) -> Double { layerTable[2 * i] }
  /// X_{i+1}: a candidate of layer i below it in magnitude lies under the curve.
  func inner(_ i: Int) -> Double { layerTable[2 * i + 1] }

  /// Built once per process. The tables live as long as the process does, so raw pointers are
  /// safe to hand to the vector loops.
  @usableFromInline static let shared = Ziggurat()

  private init() {
    let n = Self.layers
    var x = [Double](repeating: 0, count: n + 1)
    x[0] = Self.v / Self.f(Self.r)
    x[1] = Self.r
    for i in 1..<(n - 1) {
      x[i + 1] = (-2 * Self.ln(Self.v / x[i] + Self.f(x[i]))).squareRoot()
    }
    let layerTable = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
    let density = UnsafeMutablePointer<Double>.allocate(capacity: n + 1)
    for i in 0..<n {
      layerTable[2 * i] = x[i] * Self.latticeStep
      layerTable[2 * i + 1] = x[i + 1]
    }
    for i in 0...n { density[i] = Self.f(x[i]) }
    (self.layerTable, self.density) = (UnsafePointer(layerTable), UnsafePointer(density))
  }

  /// f(x) = exp(−x²/2) and ln u through `VectorMath`: the same bits on every machine, unlike libm.
  static func f(_ x: Double) -> Double { VectorMath.exp(VectorMath.Lanes(repeating: -0.5 * x * x))[0] }
  static func ln(_ u: Double) -> Double { VectorMath.log(VectorMath.Lanes(repeating: u))[0] }

  /// The number whose first candidate word `word` was not accepted at once.
  ///
  /// The k-th extra Philox block of the address is the one at counter (index, step, row mod 2³²,
  /// ⌊row/2³²⌋ mod 2¹⁶ + k·2¹⁶), k ≥ 1. The main stream's last counter word is the quad's high
  /// bits, below 2¹⁶ for rows below 2⁴⁸, so the two streams never share a block.
  @usableFromInline
  func resolve(word: UInt32, generator: Philox4x32, row: Int, step stepIndex: UInt32, index: UInt32) -> Double {
    let rowLow = UInt32(truncatingIfNeeded: row), rowHigh = UInt32(truncatingIfNeeded: row >> 32) & 0xFFFF
    var word = word, attempt: UInt32 = 0
    while true {
      let layer = Int(word) & (Self.layers - 1)
      let x = (Double(word >> UInt32(Self.layerBits)) - Self.latticeCentre) * step(layer)
      if abs(x) < inner(layer) { return x }
      attempt += 1
      var extra = generator.block(index, stepIndex, rowLow, rowHigh | attempt << 16)
      if layer == 0 {
        // Beyond r (Marsaglia 1964): t = −ln(u₁)/r for u₁, u₂ uniform on (0, 1], accepted when
        // −2 ln u₂ > t²; the candidate's sign is kept.
        while true {
          let t = -Self.ln((Double(extra.0) + 1) * 0x1p-32) / Self.r
          if -2 * Self.ln((Double(extra.1) + 1) * 0x1p-32) > t * t { return x < 0 ? -(Self.r + t) : Self.r + t }
          attempt += 1
          extra = generator.block(index, stepIndex, rowLow, rowHigh | attempt << 16)
        }
      }
      // The wedge between the rectangle and the curve: a uniform height in (f(X_i), f(X_{i+1}))
      // against f(x); a rejected candidate is replaced by a new one.
      let height = density[layer] + (Double(extra.0) + 0.5) * 0x1p-32 * (density[layer + 1] - density[layer])
      if height < Self.f(x) { return x }
      word = extra.1
    }
  }
}
