import Foundation
import SDEKit

/// A mixture of Gaussians with diagonal covariances: the data distribution p₀ whose noised
/// marginals p_t, scores ∇log p_t and samples are all exact.
///
/// Under a process with x_t | x₀ ~ N(a x₀, s² I), component k of p_t is
/// N(a μ_k, diag(a² σ_k² + s²)); with responsibilities r_k(x) = softmax_k(log w_k + log N_k(x)),
/// ∇log p_t(x) = Σ_k r_k(x) (a μ_k − x)/v_k (shared/REFERENCE.md).
public struct GaussianMixture: Sendable, Hashable {
  public let weights: [Double]
  /// K × d means.
  public let means: [[Double]]
  /// K × d standard deviations.
  public let standardDeviations: [[Double]]

  public var components: Int { weights.count }
  public var dimension: Int { means[0].count }

  /// - Precondition: matching sizes, positive weights (normalised here) and deviations.
  public init(weights: [Double], means: [[Double]], standardDeviations: [[Double]]) {
    precondition(!weights.isEmpty && weights.count == means.count && means.count == standardDeviations.count,
                 "one weight, mean and deviation vector per component")
    let d = means[0].count
    precondition(means.allSatisfy { $0.count == d } && standardDeviations.allSatisfy { $0.count == d },
                 "every component needs \(d) means and deviations")
    precondition(weights.allSatisfy { $0 > 0 } && standardDeviations.allSatisfy { $0.allSatisfy { $0 > 0 } },
                 "weights and deviations must be positive")
    let total = weights.reduce(0, +)
    self.weights = weights.map { $0 / total }
    self.means = means
    self.standardDeviations = standardDeviations
  }

  /// Equal weights and one isotropic deviation for every component.
  public init(means: [[Double]], standardDeviation: Double) {
    self.init(weights: Array(repeating: 1, count: means.count), means: means,
              standardDeviations: means.map { Array(repeating: standardDeviation, count: $0.count) })
  }

  /// The exact mean Σ_k w_k μ_k.
  public var mean: [Double] {
    (0..<dimension).map { j in zip(weights, means).reduce(0) { $0 + $1.0 * $1.1[j] } }
  }

  /// The exact covariance Σ_k w_k (diag(σ_k²) + μ_k μ_kᵀ) − m mᵀ, row-major d × d.
  public var covariance: [Double] {
    let d = dimension, m = mean
    var c = [Double](repeating: 0, count: d * d)
    for k in 0..<components {
      for i in 0..<d {
        c[i * d + i] += weights[k] * standardDeviations[k][i] * standardDeviations[k][i]
        for j in 0..<d { c[i * d + j] += weights[k] * means[k][i] * means[k][j] }
      }
    }
    for i in 0..<d { for j in 0..<d { c[i * d + j] -= m[i] * m[j] } }
    return c
  }

  /// log p_t(x) and/or ∇log p_t(x) for each row of `x`, where x_t | x₀ ~ N(a x₀, s² I).
  /// Either output may be nil. Allocates nothing beyond 2K doubles of stack scratch.
  public func evaluate(_ x: UnsafeBufferPointer<Double>, a: Double, s: Double,
                       logDensity: UnsafeMutableBufferPointer<Double>?,
                       score: UnsafeMutableBufferPointer<Double>?) {
    let d = dimension, K = components, rows = x.count / d
    let s2 = s * s, a2 = a * a
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * K) { scratch in
      // scratch[0..<K]: log w_k − ½ Σ_j log(2π v_kj), independent of the row.
      for k in 0..<K {
        var logNorm = 0.0
        for j in 0..<d { logNorm += Foundation.log(2 * Double.pi * (a2 * standardDeviations[k][j] * standardDeviations[k][j] + s2)) }
        scratch[k] = Foundation.log(weights[k]) - 0.5 * logNorm
      }
      for r in 0..<rows {
        let row = r * d
        var largest = -Double.infinity
        for k in 0..<K {
          var quadratic = 0.0
          for j in 0..<d {
            let v = a2 * standardDeviations[k][j] * standardDeviations[k][j] + s2
            let diff = x[row + j] - a * means[k][j]
            quadratic += diff * diff / v
          }
          let term = scratch[k] - 0.5 * quadratic
          scratch[K + k] = term
          largest = max(largest, term)
        }
        var total = 0.0
        for k in 0..<K {
          scratch[K + k] = Foundation.exp(scratch[K + k] - largest)
          total += scratch[K + k]
        }
        logDensity?[r] = largest + Foundation.log(total)
        if let score {
          for j in 0..<d { score[row + j] = 0 }
          for k in 0..<K {
            let responsibility = scratch[K + k] / total
            for j in 0..<d {
              let v = a2 * standardDeviations[k][j] * standardDeviations[k][j] + s2
              score[row + j] += responsibility * (a * means[k][j] - x[row + j]) / v
            }
          }
        }
      }
    }
  }

  /// The index of the most responsible component of p₀ for each row (mode occupancy).
  public func mostResponsibleComponent(_ x: [Double]) -> [Int] {
    let d = dimension
    return stride(from: 0, to: x.count, by: d).map { start in
      var best = 0, bestValue = -Double.infinity
      for k in 0..<components {
        var value = Foundation.log(weights[k])
        for j in 0..<d {
          let sd = standardDeviations[k][j], diff = x[start + j] - means[k][j]
          value -= Foundation.log(sd) + 0.5 * diff * diff / (sd * sd)
        }
        if value > bestValue { bestValue = value; best = k }
      }
      return best
    }
  }

  /// `count` exact samples of p₀; sample i is a pure function of (seed, firstRow + i): its
  /// component comes from Philox block (0, 0, row) and its normals from `NormalSource` step 1.
  public func sample(count: Int, seed: UInt64, firstRow: Int = 0) -> StateBatch {
    let d = dimension
    let generator = Philox4x32(seed: seed), normals = NormalSource(seed: seed)
    var cumulative: [Double] = []
    var running = 0.0
    for w in weights { running += w; cumulative.append(running) }
    var out = StateBatch(count: count, dimension: d)
    out.values.withUnsafeMutableBufferPointer { values in
      normals.generate(rows: firstRow..<(firstRow + count), step: 1, count: d) { offset, lanes, index, xi in
        for lane in 0..<lanes { values[(offset + lane) * d + index] = xi[lane] }
      }
      for i in 0..<count {
        let row = firstRow + i
        let word = generator.block(0, 0, UInt32(truncatingIfNeeded: row), UInt32(truncatingIfNeeded: row >> 32)).0
        let u = (Double(word) + 0.5) * 0x1p-32
        let k = cumulative.firstIndex { u < $0 } ?? (components - 1)
        for j in 0..<d { values[i * d + j] = means[k][j] + standardDeviations[k][j] * values[i * d + j] }
      }
    }
    return out
  }
}
