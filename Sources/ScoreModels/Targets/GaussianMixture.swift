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

  /// A kernel density estimate of a data set with no closed form (a learned model's training
  /// set), so that the metrics of an analytic target apply to it: `components` rows spread evenly
  /// through the data as equally weighted centres, each with Scott's bandwidth
  /// h = σ̄ n^(−1/(d+4)) (σ̄ the mean per-coordinate standard deviation of the data).
  public init(kernelDensityOf data: StateBatch, components: Int = 2_000) {
    let n = min(components, data.count), d = data.dimension
    precondition(n >= 2, "a kernel density estimate needs at least 2 points")
    let rows = (0..<n).map { $0 * data.count / n }
    var spread = 0.0
    for j in 0..<d {
      let column = (0..<data.count).map { data[$0, j] }
      let mean = column.reduce(0, +) / Double(column.count)
      spread += (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count - 1)).squareRoot() / Double(d)
    }
    let bandwidth = max(spread, 1e-12) * Foundation.pow(Double(n), -1 / Double(d + 4))
    self.init(means: rows.map { r in (0..<d).map { data[r, $0] } }, standardDeviation: bandwidth)
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
  /// Either output may be nil.
  ///
  /// - Complexity: O(rows × K × d), eight rows at a time on SIMD lanes; a row's result does not
  ///   depend on which lane or block it falls in, so any split of the rows gives the same bits.
  public func evaluate(_ x: UnsafeBufferPointer<Double>, a: Double, s: Double,
                       logDensity: UnsafeMutableBufferPointer<Double>?,
                       score: UnsafeMutableBufferPointer<Double>?) {
    let d = dimension
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 8 * d) { tail in
      evaluateBlocks(x, a: a, s: s) { block, rows, terms, columns, largest, exponentials, total in
        if let logDensity {
          for lane in 0..<rows { logDensity[block + lane] = largest[lane] + Foundation.log(total[lane]) }
        }
        guard let score else { return }
        // ∇log p = Σ_k r_k (a μ_k − x)/v_k with r_k = e_k / Σ e (the division last).
        let inverseTotal = 1 / total
        // A whole block is written straight to the output; a final partial one through `tail`.
        let out = rows == 8 ? score.baseAddress! + block * d : tail.baseAddress!
        terms.centres.withUnsafeBufferPointer { centres in
          terms.inverseVariances.withUnsafeBufferPointer { inverseVariances in
            if let isotropic = terms.isotropic {
              // Σ_k r_k (aμ_k − x)/v_k = Σ_k (r_k/v_k) aμ_k − x Σ_k r_k/v_k.
              var precision = VectorMath.Lanes()
              for k in 0..<components {
                exponentials[k] *= isotropic.inverseVariance[k]
                precision += exponentials[k]
              }
              for j in 0..<d {
                var sum = VectorMath.Lanes()
                for k in 0..<components { sum += exponentials[k] * centres[k * d + j] }
                Self.scatter((sum - columns[j] * precision) * inverseTotal, to: out, column: j, dimension: d)
              }
              return
            }
            for j in 0..<d {
              var sum = VectorMath.Lanes()
              for k in 0..<components {
                let index = k * d + j
                sum += exponentials[k] * (VectorMath.Lanes(repeating: centres[index]) - columns[j])
                  * inverseVariances[index]
              }
              Self.scatter(sum * inverseTotal, to: out, column: j, dimension: d)
            }
          }
        }
        if rows < 8 {
          for e in 0..<(rows * d) { score[block * d + e] = tail[e] }
        }
      }
    }
  }

  /// The index of the most responsible component of p₀ for each row (mode occupancy).
  public func mostResponsibleComponent(_ x: [Double]) -> [Int] {
    var result = [Int](repeating: 0, count: x.count / dimension)
    x.withUnsafeBufferPointer { xp in
      evaluateBlocks(xp, a: 1, s: 0) { block, rows, _, _, _, exponentials, _ in
        // The largest term has exponential exactly 1; the first such component wins ties.
        for lane in 0..<rows {
          result[block + lane] = (0..<components).first { exponentials[$0][lane] == 1 } ?? 0
        }
      }
    }
    return result
  }

  /// The per-call constants of p_t: centres a μ_k, inverse variances 1/(a²σ_kj² + s²), and
  /// log w_k − ½ Σ_j log(2π v_kj), all K × d row-major (the last K long).
  @usableFromInline
  struct Terms {
    var centres: [Double]
    var inverseVariances: [Double]
    var logNormalisers: [Double]
    /// When every component is isotropic (every built-in target), the log-term expanded as
    /// t_k = b_k + ⟨x, aμ_k/v_k⟩ − ‖x‖²/(2v_k) with b_k = log-normaliser − ‖aμ_k‖²/(2v_k): one
    /// multiply–add per coordinate, the form numpy's BLAS users write. Holds 1/v_k, b_k and
    /// aμ_k/v_k (K × d).
    var isotropic: (inverseVariance: [Double], bias: [Double], scaledCentres: [Double])?
  }

  func terms(a: Double, s: Double) -> Terms {
    let d = dimension, K = components
    var terms = Terms(centres: [Double](repeating: 0, count: K * d),
                      inverseVariances: [Double](repeating: 0, count: K * d),
                      logNormalisers: [Double](repeating: 0, count: K))
    var isotropicInverse: [Double] = [], bias: [Double] = [], scaledCentres: [Double] = []
    for k in 0..<K {
      var logSum = 0.0
      // One logarithm per component when its deviations are all equal (every built-in target).
      let isotropic = standardDeviations[k].allSatisfy { $0 == standardDeviations[k][0] }
      for j in 0..<d {
        let v = a * a * standardDeviations[k][j] * standardDeviations[k][j] + s * s
        terms.centres[k * d + j] = a * means[k][j]
        terms.inverseVariances[k * d + j] = 1 / v
        if !isotropic { logSum += Foundation.log(2 * Double.pi * v) }
      }
      if isotropic {
        logSum = Double(d) * Foundation.log(2 * Double.pi / terms.inverseVariances[k * d])
        isotropicInverse.append(terms.inverseVariances[k * d])
      }
      terms.logNormalisers[k] = Foundation.log(weights[k]) - 0.5 * logSum
      if isotropic {
        let inverse = terms.inverseVariances[k * d]
        let centreNorm = (0..<d).reduce(0) { $0 + terms.centres[k * d + $1] * terms.centres[k * d + $1] }
        bias.append(terms.logNormalisers[k] - 0.5 * centreNorm * inverse)
        scaledCentres += terms.centres[(k * d)..<((k + 1) * d)].map { $0 * inverse }
      }
    }
    if isotropicInverse.count == K {
      terms.isotropic = (isotropicInverse, bias, scaledCentres)
    }
    return terms
  }

  /// For each block of up to eight rows: its columns (row values by coordinate), the log-terms t_k = log w_k + log N(x; a μ_k, v_k), their
  /// largest, e_k = exp(t_k − largest) (in `exponentials`, K lanes-vectors, mutable) and Σ_k e_k.
  @inline(__always)
  func evaluateBlocks(
    _ x: UnsafeBufferPointer<Double>, a: Double, s: Double,
    _ body: (_ block: Int, _ rows: Int, _ terms: Terms, _ columns: UnsafeMutableBufferPointer<VectorMath.Lanes>,
             _ largest: VectorMath.Lanes,
             _ exponentials: UnsafeMutableBufferPointer<VectorMath.Lanes>, _ total: VectorMath.Lanes) -> Void
  ) {
    typealias Lanes = VectorMath.Lanes
    let d = dimension, K = components, count = x.count / d
    let terms = self.terms(a: a, s: s)
    withUnsafeTemporaryAllocation(of: Lanes.self, capacity: K + d + d) { scratch in
      let logTerms = UnsafeMutableBufferPointer(rebasing: scratch[0..<K])
      let columns = UnsafeMutableBufferPointer(rebasing: scratch[K..<(K + d)])
      // The last partial block, zero-padded to eight rows, so every block takes the same path.
      let padded = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: scratch[(K + d)...]))
        .bindMemory(to: Double.self)
      terms.centres.withUnsafeBufferPointer { centres in
        terms.inverseVariances.withUnsafeBufferPointer { inverseVariances in
          var block = 0
          while block < count {
            let rows = min(8, count - block)
            var source = x.baseAddress! + block * d
            if rows < 8 {
              for e in 0..<(8 * d) { padded[e] = e < rows * d ? source[e] : 0 }
              source = UnsafePointer(padded.baseAddress!)
            }
            for j in 0..<d { columns[j] = Self.gather(source, column: j, dimension: d) }
            var largest = Lanes(repeating: -Double.greatestFiniteMagnitude)
            var norm = Lanes()
            if terms.isotropic != nil { for j in 0..<d { norm += columns[j] * columns[j] } }
            for k in 0..<K {
              var term: Lanes
              if let isotropic = terms.isotropic {
                var dot = Lanes(repeating: isotropic.bias[k])
                for j in 0..<d { dot += columns[j] * isotropic.scaledCentres[k * d + j] }
                term = dot - (0.5 * isotropic.inverseVariance[k]) * norm
              } else {
                var quadratic = Lanes()
                for j in 0..<d {
                  let difference = columns[j] - centres[k * d + j]
                  quadratic += difference * difference * inverseVariances[k * d + j]
                }
                term = terms.logNormalisers[k] - 0.5 * quadratic
              }
              logTerms[k] = term
              largest = VectorMath.select(largest, orGreater: term)
            }
            let total = Self.exponentiate(logTerms, minus: largest)
            body(block, rows, terms, columns, largest, logTerms, total)
            block += 8
          }
        }
      }
    }
  }

  /// Replaces each term t_k by exp(t_k − largest) and returns their sum. The sum is its own
  /// loop: summed in the same loop, the optimiser split parts of the exponential into scalar code.
  @inline(__always)
  static func exponentiate(_ terms: UnsafeMutableBufferPointer<VectorMath.Lanes>,
                           minus largest: VectorMath.Lanes) -> VectorMath.Lanes {
    for k in terms.indices { terms[k] = VectorMath.exp(terms[k] - largest) }
    var total = VectorMath.Lanes()
    for k in terms.indices { total += terms[k] }
    return total
  }

  /// Column `column` of the eight rows at `rows` (row-major, `d` values per row), built from
  /// eight loads in registers: lane-by-lane stores into a vector would stall on reloading it.
  @inline(__always)
  static func gather(_ rows: UnsafePointer<Double>, column: Int, dimension d: Int) -> VectorMath.Lanes {
    let p = rows + column
    return VectorMath.Lanes(p[0], p[d], p[2 * d], p[3 * d], p[4 * d], p[5 * d], p[6 * d], p[7 * d])
  }

  /// Writes the lanes of `values` as column `column` of eight rows at `rows`.
  @inline(__always)
  static func scatter(_ values: VectorMath.Lanes, to rows: UnsafeMutablePointer<Double>, column: Int, dimension d: Int) {
    let p = rows + column
    p[0] = values[0]; p[d] = values[1]; p[2 * d] = values[2]; p[3 * d] = values[3]
    p[4 * d] = values[4]; p[5 * d] = values[5]; p[6 * d] = values[6]; p[7 * d] = values[7]
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
      normals.fill(rows: firstRow..<(firstRow + count), step: 1, count: d, scale: 1, into: values.baseAddress!)
      var i = 0
      while i < count {
        // Eight rows' component words at once (lane ℓ is row firstRow + i + ℓ, as `block` gives).
        let rows = SIMD8<UInt64>(0, 1, 2, 3, 4, 5, 6, 7) &+ UInt64(truncatingIfNeeded: firstRow + i)
        let words = generator.blocks(0, 0, rows & 0xFFFF_FFFF, rows &>> 32).0
        for lane in 0..<min(8, count - i) {
          let u = (Double(words[lane]) + 0.5) * 0x1p-32
          let k = cumulative.firstIndex { u < $0 } ?? (components - 1)
          let row = (i + lane) * d
          for j in 0..<d { values[row + j] = means[k][j] + standardDeviations[k][j] * values[row + j] }
        }
        i += 8
      }
    }
    return out
  }
}
