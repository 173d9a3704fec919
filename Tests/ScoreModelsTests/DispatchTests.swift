import Foundation
import SDEKit
import Testing
@testable import ScoreModels

/// The mixture kernels and the network's activations at every SIMD level this machine supports:
/// the same bits on each (zero tolerance: every operation is exact or one IEEE rounding).
@Suite("SIMD levels: mixture scores and network activations")
struct ScoreDispatchTests {
  /// The bit patterns `body` gives at each supported level, which must equal the baseline's.
  func expectSameOnEveryLevel(_ what: String, _ body: () -> [Double]) {
    let reference = SIMDLevel.with(.baseline) { body().map(\.bitPattern) }
    for level in SIMDLevel.supported.dropFirst() {
      let bits = SIMDLevel.with(level) { body().map(\.bitPattern) }
      let first = bits.indices.first { $0 >= reference.count || bits[$0] != reference[$0] }
      #expect(bits.count == reference.count && first == nil,
              "\(what): level \(level) differs from the baseline at element \(first ?? -1) of \(bits.count)")
    }
  }

  @Test("Scores, combined scores and log-densities of the built-in mixtures are byte-identical on every level",
        arguments: [TargetName.gmm2d8, .gmm64d16, .grid25, .gaussian])
  func mixtures(_ target: TargetName) {
    // 45 rows: whole blocks of eight through the kernels and five more through the general path;
    // with log p every block takes the general path (and its exponentials kernel).
    let mixture = target.mixture
    let x = mixture.sample(count: 45, seed: 4).values.map { 1.3 * $0 }
    expectSameOnEveryLevel("\(target.rawValue)") {
      var out: [Double] = []
      for (a, s, combination) in [(1.0, 0.0, nil), (0.7, 0.71, (x: -0.4, score: -2.5))] as
            [(Double, Double, (x: Double, score: Double)?)] {
        var score = [Double](repeating: 0, count: x.count), withDensity = score
        var logDensity = [Double](repeating: 0, count: 45)
        x.withUnsafeBufferPointer { xp in
          score.withUnsafeMutableBufferPointer {
            mixture.evaluate(xp, a: a, s: s, logDensity: nil, score: $0, combinedWith: combination)
          }
          logDensity.withUnsafeMutableBufferPointer { lp in
            withDensity.withUnsafeMutableBufferPointer {
              mixture.evaluate(xp, a: a, s: s, logDensity: lp, score: $0, combinedWith: combination)
            }
          }
        }
        out += score + withDensity + logDensity
      }
      return out
    }
  }

  @Test("Score derivatives (divergence, Jacobian–vector products) of gmm2d8 and grid25 are byte-identical on every level",
        arguments: [TargetName.gmm2d8, .grid25])
  func mixtureDerivatives(_ target: TargetName) {
    // 45 rows: five blocks through the derivatives kernel, five rows through the Swift path.
    let mixture = target.mixture
    let x = mixture.sample(count: 45, seed: 8).values.map { 1.3 * $0 }
    let tangents = (0..<x.count).map { Double(($0 * 37) % 11) / 5 - 1 }
    expectSameOnEveryLevel("\(target.rawValue) derivatives") {
      var score = [Double](repeating: 0, count: x.count), products = score
      var divergence = [Double](repeating: 0, count: 45)
      x.withUnsafeBufferPointer { xp in
        tangents.withUnsafeBufferPointer { tp in
          score.withUnsafeMutableBufferPointer { sp in
            divergence.withUnsafeMutableBufferPointer { dp in
              products.withUnsafeMutableBufferPointer { pp in
                mixture.evaluateDerivatives(xp, a: 0.7, s: 0.71, score: sp, divergence: dp, tangents: tp, products: pp)
              }
            }
          }
        }
      }
      return score + divergence + products
    }
  }

  /// eˣ in single precision as the network kernels' SiLU computes e^(−z) (CSIMDMath
  /// Kernels/Network.h, kernel_silu16, in its direct form), one value at a time: with it, z / (1 +
  /// e^(−z)) is the reference the kernels are checked against bit for bit.
  static func referenceExp(_ x: Float) -> Float {
    let clamped = x < -87 ? -87 : (x > 88 ? 88 : x)
    let shift: Float = 12_582_912
    let shifted = shift.addingProduct(clamped, 1.442_695_04)
    let n = shifted - shift
    var r = clamped.addingProduct(n, -0.693_359_375)
    r = r.addingProduct(n, 2.121_944_4e-4)
    var q = Float(0.008_368_710_055_947_304).addingProduct(Float(0.001_381_461_275_741_458), r)
    q = Float(0.041_668_388_992_547_99).addingProduct(q, r)
    q = Float(0.166_665_211_319_923_4).addingProduct(q, r)
    q = Float(0.499_999_940_395_355_2).addingProduct(q, r)
    let expm1 = r.addingProduct(r * r, q)
    let scale = Float(bitPattern: UInt32(bitPattern: Int32(bitPattern: shifted.bitPattern) &- (0x4B40_0000 - 127)) &<< 23)
    return x < -87 ? 0 : scale.addingProduct(scale, expm1)
  }

  /// A network with widths that are not multiples of 16 (padding) and 37 rows (blocks of rows and
  /// a remainder), and its output from a scalar reference: each output Σ_k in order by fused
  /// multiply–adds, then the bias, then z / (1 + e^(−z)).
  static func referenceNetwork() throws -> (MLP<Float>, [Double], [Double]) {
    let architecture = MLPArchitecture(dimension: 3, timeFeatures: 6, hidden: [40, 24])
    var parameters = initialParameters(architecture, seed: 5)
    for l in parameters.biases.indices { parameters.biases[l] = parameters.biases[l].indices.map { Float($0 % 7) * 0.05 - 0.1 } }
    let mlp = try MLP(architecture: architecture, parameters: parameters)
    let rows = 37, t = 0.37
    let x = (0..<(rows * 3)).map { Double(($0 * 7919) % 101) / 11 - 4.5 }
    var input = [Float](repeating: 0, count: rows * 9)
    x.withUnsafeBufferPointer { xp in input.withUnsafeMutableBufferPointer { mlp.join(xp, t: t, into: $0) } }
    var activations = input, width = 9
    for (l, layer) in architecture.layers.enumerated() {
      var next = [Float](repeating: 0, count: rows * layer.outputs)
      for r in 0..<rows {
        for o in 0..<layer.outputs {
          var sum: Float = 0
          for k in 0..<layer.inputs { sum = sum.addingProduct(activations[r * width + k], parameters.weights[l][o * layer.inputs + k]) }
          var z = sum + parameters.biases[l][o]
          if l < architecture.layers.count - 1 { z = z / (1 + referenceExp(-z)) }
          next[r * layer.outputs + o] = z
        }
      }
      (activations, width) = (next, layer.outputs)
    }
    return (mlp, x, activations.map { Double($0) })
  }

  @Test("MLP<Float>.predict is byte-identical on every level and sums each output in input order by fused multiply–adds")
  func networkKernel() throws {
    let (mlp, x, expected) = try Self.referenceNetwork()
    let t = 0.37
    expectSameOnEveryLevel("MLP<Float>.predict") {
      var out = [Double](repeating: .nan, count: expected.count)
      x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { mlp.predict(BatchView(xp, dimension: 3), t: t, into: MutableBatchView($0, dimension: 3)) }
      }
      #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "the kernel differs from the scalar reference")
      return out
    }
  }

  @Test("Single-precision exp is within 2 ulp of libm on [−87, 88]; SiLU of a large negative input is nearly 0")
  func floatExp() {
    // 2 ulp: the polynomial's error is 0.4 ulp and five roundings follow (tools/minimax.py).
    var worst = 0.0
    var x: Float = -87
    while x <= 88 {
      let exact = Foundation.exp(Double(x)), y = Double(Self.referenceExp(x))
      worst = max(worst, abs(y - exact) / Double(Float(exact).ulp))
      x += 0.0137
    }
    #expect(worst <= 2, "worst error \(worst) ulp")
    // The kernel itself on whole and padded vectors, against the reference.
    var z: [Float] = [-1000, -200, -100, -88.5, -87.5, -20, -1, -0.0, 0, 1e-3, 2, 30, 87.5, 100, 1e30, -1e30, 3]
    let expected = z.map { $0 / (1 + Self.referenceExp(-$0)) }
    z.withUnsafeMutableBufferPointer { Float.silu($0) }
    #expect(z.map(\.bitPattern) == expected.map(\.bitPattern))
    // silu(z) = z e^z / (1 + e^z) → 0 as z → −∞: |silu(−100)| < 1e-30, not −100.
    #expect(abs(z[2]) < 1e-30 && abs(z[0]) < 1e-30 && z[13] == 100)
  }
}
