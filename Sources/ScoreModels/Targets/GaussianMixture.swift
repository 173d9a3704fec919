import CSIMDMath
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
  /// Either output may be nil. With `combination` (c, b), `score` receives c·x + b·∇log p_t(x)
  /// instead, combined while the block is in registers (ScoreModel.combination).
  ///
  /// - Complexity: O(rows × K × d), eight rows at a time on SIMD lanes; a row's result does not
  ///   depend on which lane or block it falls in, so any split of the rows gives the same bits.
  public func evaluate(_ x: UnsafeBufferPointer<Double>, a: Double, s: Double,
                       logDensity: UnsafeMutableBufferPointer<Double>?,
                       score: UnsafeMutableBufferPointer<Double>?,
                       combinedWith combination: (x: Double, score: Double)? = nil) {
    let d = dimension, K = components
    withTerms(a: a, s: s) { terms in
      // Two-dimensional rows under components that share one variance (gmm2d8, grid25): whole
      // blocks of eight rows through one C kernel (at the process's SIMD level), which keeps a block in registers where the
      // general path below passes its vectors through memory and a closure (gmm2d8 score 8.5 →
      // 6.2 ns per row). It repeats the general path's operations in its order: the same bits.
      // Rows of a multiple of eight values under a multiple of eight such components (gmm64d16):
      // whole blocks through a kernel that keeps the rows in row order, where the general path
      // moves them into column form and back (gmm64d16 score 118–120 → 97 ns per row).
      var kernelRows = 0
      if logDensity == nil, let score, terms.hasSharedVariance {
        let combine: Int32 = combination == nil ? 0 : 1
        let xCoefficient = combination?.x ?? 0, scoreCoefficient = combination?.score ?? 0
        if d == 2 {
          kernelRows = x.count / 16 * 8
          VectorMath.withAlignedTemporaryAllocation(of: VectorMath.Lanes.self, capacity: K) { termVectors in
            sdekit_shared_mixture_scores2(
              kernelRows / 8, x.baseAddress!, K, terms.bias, terms.scaledCentres, terms.centres, terms.inverseVariance,
              combine, xCoefficient, scoreCoefficient, OpaquePointer(termVectors.baseAddress!), score.baseAddress!)
          }
        } else if d % 8 == 0, K % 8 == 0 {
          kernelRows = x.count / d / 8 * 8
          VectorMath.withAlignedTemporaryAllocation(of: VectorMath.Lanes.self, capacity: K) { termVectors in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: K * d) { byCoordinate in
              // aμ_k/v by coordinate: 8 × 8 transposes (× 1 is exact), where one value at a time
              // took a fifth of a 128-row call.
              for k in stride(from: 0, to: K, by: 8) {
                for j in stride(from: 0, to: d, by: 8) {
                  sdekit_transpose8(terms.scaledCentres + (k * d + j), d, 1, byCoordinate.baseAddress! + (j * K + k), K)
                }
              }
              sdekit_shared_mixture_scores_wide(
                kernelRows / 8, x.baseAddress!, d, K, terms.bias, byCoordinate.baseAddress!, terms.centres,
                terms.inverseVariance, combine, xCoefficient, scoreCoefficient,
                OpaquePointer(termVectors.baseAddress!), score.baseAddress!)
            }
          }
        }
      }
      guard kernelRows * d < x.count else { return }
      // The rest (every row when the kernel does not apply): the general path.
      let x = UnsafeBufferPointer(rebasing: x[(kernelRows * d)...])
      let score = score.map { UnsafeMutableBufferPointer(rebasing: $0[(kernelRows * d)...]) }
      let xCoefficient = VectorMath.Lanes(repeating: combination?.x ?? 0)
      let scoreCoefficient = VectorMath.Lanes(repeating: combination?.score ?? 0)
      // The combination in the same operations as its default pass, c·x + b·s, so the same bits.
      @inline(__always) func output(_ score: VectorMath.Lanes, _ x: VectorMath.Lanes) -> VectorMath.Lanes {
        combination == nil ? score : xCoefficient * x + scoreCoefficient * score
      }
      // The score's columns for one block.
      VectorMath.withAlignedTemporaryAllocation(of: VectorMath.Lanes.self, capacity: d) { results in
        let results = results.baseAddress!
        evaluateBlocks(x, terms, needsLargest: logDensity != nil) {
          block, rows, columns, largest, exponentials, total in
          if let logDensity {
            for lane in 0..<rows { logDensity[block + lane] = largest[lane] + Foundation.log(total[lane]) }
          }
          guard let score else { return }
          // ∇log p = Σ_k r_k (a μ_k − x)/v_k with r_k = e_k / Σ e (the division last).
          let inverseTotal = 1 / total
          let centres = terms.centres
          if terms.isIsotropic {
            // Σ_k r_k (aμ_k − x)/v_k = Σ_k (r_k/v_k) aμ_k − x Σ_k r_k/v_k.
            var precision = VectorMath.Lanes()
            for k in 0..<K {
              exponentials[k] *= terms.inverseVariance[k]
              precision += exponentials[k]
            }
            // Four coordinates at a time, then two, then one: independent sums over k (each in k
            // order, so the bits are those of one at a time) keep the adders busy instead of one
            // chain waiting on itself.
            func finish(_ sum: VectorMath.Lanes, _ j: Int) {
              results[j] = output((sum - columns[j] * precision) * inverseTotal, columns[j])
            }
            var j = 0
            while j + 4 <= d {
              var s0 = VectorMath.Lanes(), s1 = s0, s2 = s0, s3 = s0
              for k in 0..<K {
                let e = exponentials[k], c = centres + (k &* d &+ j)
                s0 += e * c[0]; s1 += e * c[1]; s2 += e * c[2]; s3 += e * c[3]
              }
              finish(s0, j); finish(s1, j + 1); finish(s2, j + 2); finish(s3, j + 3)
              j += 4
            }
            if j + 2 <= d {
              var s0 = VectorMath.Lanes(), s1 = s0
              for k in 0..<K {
                let e = exponentials[k], c = centres + (k &* d &+ j)
                s0 += e * c[0]; s1 += e * c[1]
              }
              finish(s0, j); finish(s1, j + 1)
              j += 2
            }
            if j < d {
              var sum = VectorMath.Lanes()
              for k in 0..<K { sum += exponentials[k] * centres[k &* d &+ j] }
              finish(sum, j)
            }
          } else {
            for j in 0..<d {
              var sum = VectorMath.Lanes()
              for k in 0..<K {
                let index = k * d + j
                sum += exponentials[k] * (VectorMath.Lanes(repeating: centres[index]) - columns[j])
                  * terms.inverseVariances[index]
              }
              results[j] = output(sum * inverseTotal, columns[j])
            }
          }
          VectorMath.storeRows(rows, ofColumns: results, dimension: d, to: score.baseAddress! + block * d)
        }
      }
    }
  }

  /// The index of the most responsible component of p₀ for each row (mode occupancy).
  public func mostResponsibleComponent(_ x: [Double]) -> [Int] {
    var result = [Int](repeating: 0, count: x.count / dimension)
    x.withUnsafeBufferPointer { xp in
      withTerms(a: 1, s: 0) { terms in
        evaluateBlocks(xp, terms, needsLargest: false) { block, rows, _, _, exponentials, _ in
          // The largest term has exponential exactly 1; the first such component wins ties.
          for lane in 0..<rows {
            result[block + lane] = (0..<components).first { exponentials[$0][lane] == 1 } ?? 0
          }
        }
      }
    }
    return result
  }

  /// The per-call constants of p_t, in one buffer of `storageCount` values that the caller
  /// provides (a temporary: a score is evaluated every step) and the hot loops read through
  /// pointers.
  @usableFromInline
  struct Terms {
    /// Centres a μ_k and inverse variances 1/(a²σ_kj² + s²), K × d row-major.
    let centres: UnsafeMutablePointer<Double>
    let inverseVariances: UnsafeMutablePointer<Double>
    /// log w_k − ½ Σ_j log(2π v_kj), K long.
    let logNormalisers: UnsafeMutablePointer<Double>
    /// When every component is isotropic (every built-in target), the log-term expanded as
    /// t_k = b_k + ⟨x, aμ_k/v_k⟩ − ‖x‖²/(2v_k) with b_k = log-normaliser − ‖aμ_k‖²/(2v_k): one
    /// multiply–add per coordinate, the form numpy's BLAS users write. Then the next three hold
    /// 1/v_k (K), b_k (K) and aμ_k/v_k (K × d).
    let isIsotropic: Bool
    /// Isotropic with one variance for every component (every built-in target): −‖x‖²/(2v) is
    /// then the same in every term, and it cancels in the softmax.
    let hasSharedVariance: Bool
    let inverseVariance: UnsafeMutablePointer<Double>
    let bias: UnsafeMutablePointer<Double>
    let scaledCentres: UnsafeMutablePointer<Double>

    static func storageCount(_ mixture: GaussianMixture) -> Int {
      3 * mixture.components * mixture.dimension + 3 * mixture.components
    }

    init(_ mixture: GaussianMixture, a: Double, s: Double, storage: UnsafeMutableBufferPointer<Double>) {
      let d = mixture.dimension, K = mixture.components
      storage.initialize(repeating: 0)
      let base = storage.baseAddress!
      centres = base
      inverseVariances = base + K * d
      logNormalisers = base + 2 * K * d
      inverseVariance = base + 2 * K * d + K
      bias = base + 2 * K * d + 2 * K
      scaledCentres = base + 2 * K * d + 3 * K
      // The K × d tables are written a row at a time through pointers: indices k·d + j, checked
      // for overflow element by element, kept these loops scalar, and this runs per call.
      var allIsotropic = true
      for k in 0..<K {
        let deviations = mixture.standardDeviations[k]
        let centreRow = centres + k * d, inverseRow = inverseVariances + k * d
        // One variance and one logarithm per component when its deviations are all equal.
        let isotropic = deviations.allSatisfy { $0 == deviations[0] }
        allIsotropic = allIsotropic && isotropic
        var logSum = 0.0
        if isotropic {
          let inverse = 1 / (a * a * deviations[0] * deviations[0] + s * s)
          logSum = Double(d) * Foundation.log(2 * Double.pi / inverse)
          inverseVariance[k] = inverse
          for j in 0..<d { inverseRow[j] = inverse }
        } else {
          for j in 0..<d {
            let v = a * a * deviations[j] * deviations[j] + s * s
            inverseRow[j] = 1 / v
            logSum += Foundation.log(2 * Double.pi * v)
          }
        }
        mixture.means[k].withUnsafeBufferPointer { mean in
          for j in 0..<d { centreRow[j] = a * mean[j] }
        }
        logNormalisers[k] = Foundation.log(mixture.weights[k]) - 0.5 * logSum
      }
      isIsotropic = allIsotropic
      let inverse = inverseVariance
      hasSharedVariance = allIsotropic && (0..<K).allSatisfy { inverse[$0] == inverse[0] }
      guard allIsotropic else { return }
      // ‖aμ_k‖² for every k side by side, each summed in j order: one at a time, each sum waited
      // on its own additions (a third of this initialiser for gmm64d16, which runs per call).
      withUnsafeTemporaryAllocation(of: Double.self, capacity: K) { centreNorms in
        centreNorms.initialize(repeating: 0)
        for j in 0..<d {
          var centre = centres + j
          for k in 0..<K {
            centreNorms[k] += centre.pointee * centre.pointee
            centre += d
          }
        }
        for k in 0..<K {
          let inverse = inverseVariance[k]
          bias[k] = logNormalisers[k] - 0.5 * centreNorms[k] * inverse
          let centreRow = centres + k * d, scaledRow = scaledCentres + k * d
          for j in 0..<d { scaledRow[j] = centreRow[j] * inverse }
        }
      }
    }
  }

  /// The per-call constants of p_t for (a, s), in a temporary buffer.
  @inline(__always)
  func withTerms<R>(a: Double, s: Double, _ body: (Terms) -> R) -> R {
    withUnsafeTemporaryAllocation(of: Double.self, capacity: Terms.storageCount(self)) { storage in
      body(Terms(self, a: a, s: s, storage: storage))
    }
  }

  /// For each block of up to eight rows of `x` under `terms`: its columns (row values by
  /// coordinate), the log-terms t_k = log w_k + log N(x; a μ_k, v_k), their largest (only when
  /// `needsLargest`: the responsibilities do not need it), e_k = exp(t_k − largest) (in
  /// `exponentials`, K lanes-vectors, mutable) and Σ_k e_k.
  @inline(__always)
  func evaluateBlocks(
    _ x: UnsafeBufferPointer<Double>, _ terms: Terms, needsLargest: Bool,
    _ body: (_ block: Int, _ rows: Int, _ columns: UnsafeMutableBufferPointer<VectorMath.Lanes>,
             _ largest: VectorMath.Lanes,
             _ exponentials: UnsafeMutableBufferPointer<VectorMath.Lanes>, _ total: VectorMath.Lanes) -> Void
  ) {
    typealias Lanes = VectorMath.Lanes
    let d = dimension, K = components, count = x.count / d
    VectorMath.withAlignedTemporaryAllocation(of: Lanes.self, capacity: K + d + d) { scratch in
      let logTerms = UnsafeMutableBufferPointer(rebasing: scratch[0..<K])
      let columns = UnsafeMutableBufferPointer(rebasing: scratch[K..<(K + d)])
      // The last partial block, zero-padded to eight rows, so every block takes the same path.
      let padded = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: scratch[(K + d)...]))
        .bindMemory(to: Double.self)
      var block = 0
      while block < count {
        let rows = min(8, count - block)
        var source = x.baseAddress! + block * d
        if rows < 8 {
          for e in 0..<(8 * d) { padded[e] = e < rows * d ? source[e] : 0 }
          source = UnsafePointer(padded.baseAddress!)
        }
        VectorMath.loadColumns(ofEightRows: source, dimension: d, into: columns.baseAddress!)
        // The largest stored term, and the part every stored term leaves out.
        var largest: Lanes, common = Lanes()
        if terms.isIsotropic {
          (largest, common) = Self.isotropicTerms(columns, terms, needsCommon: needsLargest, into: logTerms)
        } else {
          largest = Lanes(repeating: -Double.greatestFiniteMagnitude)
          for k in 0..<K {
            var quadratic = Lanes()
            for j in 0..<d {
              let difference = columns[j] - terms.centres[k * d + j]
              quadratic += difference * difference * terms.inverseVariances[k * d + j]
            }
            logTerms[k] = terms.logNormalisers[k] - 0.5 * quadratic
            largest = VectorMath.select(largest, orGreater: logTerms[k])
          }
        }
        let total = Self.exponentiate(logTerms, minus: largest)
        body(block, rows, columns, largest + common, logTerms, total)
        block += 8
      }
    }
  }

  /// t_k = b_k + ⟨x, aμ_k/v_k⟩ − ‖x‖²/(2v_k) for the eight rows in `columns`, less a part
  /// `common` to all k (zero unless the components share one variance), and the largest of these
  /// stored terms: t_k's largest is `largest + common`, and t_k − its largest is the stored
  /// difference (`common` is left zero when shared and not `needsCommon`). Four components at a
  /// time: four independent sums over j (each in j order, so the bits are those of one at a time)
  /// keep the adders busy instead of one chain of d additions waiting on itself.
  @inline(__always)
  static func isotropicTerms(_ columns: UnsafeMutableBufferPointer<VectorMath.Lanes>, _ terms: Terms,
                             needsCommon: Bool, into logTerms: UnsafeMutableBufferPointer<VectorMath.Lanes>)
    -> (largest: VectorMath.Lanes, common: VectorMath.Lanes) {
    typealias Lanes = VectorMath.Lanes
    let d = columns.count, K = logTerms.count
    var largest = Lanes(repeating: -Double.greatestFiniteMagnitude)
    // With one variance for all components the ‖x‖² part is common: left out of the terms, it
    // costs no multiply and subtraction per component (a fifth of gmm2d8's score without the
    // exponentials) and no cancellation between large terms; and a caller that needs only the
    // differences between terms (the score) does not need ‖x‖² at all.
    let shared = terms.hasSharedVariance
    var norm = Lanes()
    if !shared || needsCommon {
      for j in 0..<d { norm += columns[j] * columns[j] }
    }
    // ½‖x‖² · (1/v_k), the same bits as (½/v_k)·‖x‖² (halving is exact); written vector times
    // broadcast, as the scalar-first product compiled to four 128-bit pieces.
    let halfNorm = 0.5 * norm
    func finish(_ dot: Lanes, _ k: Int) {
      let term = shared ? dot : dot - halfNorm * Lanes(repeating: terms.inverseVariance[k])
      logTerms[k] = term
      largest = VectorMath.select(largest, orGreater: term)
    }
    var k = 0
    while k + 4 <= K {
      let c = terms.scaledCentres + k * d
      var t0 = Lanes(repeating: terms.bias[k]), t1 = Lanes(repeating: terms.bias[k + 1])
      var t2 = Lanes(repeating: terms.bias[k + 2]), t3 = Lanes(repeating: terms.bias[k + 3])
      for j in 0..<d {
        let x = columns[j]
        t0 += x * c[j]; t1 += x * c[d + j]; t2 += x * c[2 * d + j]; t3 += x * c[3 * d + j]
      }
      finish(t0, k); finish(t1, k + 1); finish(t2, k + 2); finish(t3, k + 3)
      k += 4
    }
    while k < K {
      var t = Lanes(repeating: terms.bias[k])
      for j in 0..<d { t += columns[j] * terms.scaledCentres[k * d + j] }
      finish(t, k)
      k += 1
    }
    return (largest, shared ? -(halfNorm * Lanes(repeating: terms.inverseVariance[0])) : Lanes())
  }

  /// Replaces each term t_k by exp(t_k − largest) and returns their sum (in k order).
  @inline(__always)
  static func exponentiate(_ terms: UnsafeMutableBufferPointer<VectorMath.Lanes>,
                           minus largest: VectorMath.Lanes) -> VectorMath.Lanes {
    VectorMath.exponentials(terms, minus: largest)
  }

  /// `count` exact samples of p₀; sample i is a pure function of (seed, set, firstRow + i): its
  /// component comes from the stream `.targetComponent(set:)` (word 0 of the block at counter
  /// (0, set, row)) and its normals from `.targetSample(set:)`. Sets are independent draws of
  /// one seed (a metric's comparison sets, its noise-floor pairs).
  public func sample(count: Int, seed: UInt64, set: Int = 0, firstRow: Int = 0) -> StateBatch {
    let d = dimension
    let choice = NoiseStream.targetComponent(set: set)
    let generator = choice.generator(seed: seed), setWord = choice.address.step
    let normals = NormalSource(seed: seed)
    var cumulative: [Double] = []
    var running = 0.0
    for w in weights { running += w; cumulative.append(running) }
    var out = StateBatch(count: count, dimension: d)
    out.values.withUnsafeMutableBufferPointer { values in
      normals.fill(rows: firstRow..<(firstRow + count), stream: .targetSample(set: set), count: d, scale: 1, into: values.baseAddress!)
      var i = 0
      while i < count {
        // Eight rows' component words at once (lane ℓ is row firstRow + i + ℓ, as `block` gives).
        let rows = SIMD8<UInt64>(0, 1, 2, 3, 4, 5, 6, 7) &+ UInt64(truncatingIfNeeded: firstRow + i)
        let words = generator.blocks(0, setWord, rows & 0xFFFF_FFFF, rows &>> 32).0
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
