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
}
