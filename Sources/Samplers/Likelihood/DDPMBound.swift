import Foundation
import ScoreModels
import SDEKit

/// The settings of the DDPM variational bound.
public struct DDPMBoundSettings: Sendable, Hashable {
  /// The reverse kernel's variance σ_n².
  public enum Variance: String, Sendable, Hashable, Codable, CaseIterable {
    /// σ_n² = β_n (Ho et al.'s first choice).
    case beta
    /// σ_n² = β̃_n = β_n (1 − ᾱ_{n−1})/(1 − ᾱ_n), the posterior's own variance.
    case posterior
  }

  /// Which of the N denoising terms are evaluated.
  public enum Terms: Sendable, Hashable {
    /// Every term: N score evaluations per sample.
    case all
    /// An unbiased estimate from K of the N − 1 KL terms, drawn uniformly (with replacement) per
    /// sample: L_T + L_0 + ((N − 1)/K) Σ_k L_{n_k − 1}, n_k ∈ 2 … N; K + 1 score evaluations.
    /// The decoder term L_0 is always evaluated: it is far from the KL terms (about
    /// −(d/2) log(2πe β₁)), and sampling it among them would make it most of the variance.
    case sampled(Int)
  }

  public var variance: Variance
  public var terms: Terms
  /// nil for a continuous Gaussian decoder p(x₀ | x₁) = N(μ_θ(x₁, 1), σ₁² I); with levels, Ho et
  /// al.'s discretised decoder: the probability of x₀'s level cell (the data must be the level
  /// centres, `DiscreteLevels.centres`).
  public var levels: DiscreteLevels?

  public init(variance: Variance = .beta, terms: Terms = .all, levels: DiscreteLevels? = nil) {
    self.variance = variance
    self.terms = terms
    self.levels = levels
  }
}

/// The bound of every sample and its terms.
public struct DDPMBoundResult: Sendable {
  /// L for each sample in nats: L ≥ −log p_θ(x₀), so −L is a lower bound on the log-likelihood.
  public var bound: [Double]
  /// With K ≥ 2 sampled terms, each sample's standard error over its terms; else nil.
  public var standardError: [Double]?
  public var mean: Double
  /// The mean's standard error: the sample standard deviation of the per-sample bounds over √n
  /// (which includes the draws of x_n and of the sampled terms).
  public var meanStandardError: Double
  /// The mean of each term over the samples that evaluated it: index n − 1 for n = 1 … N holds
  /// L_{n−1} (index 0 the decoder's −log p(x₀ | x₁), index n − 1 ≥ 1 the KL at step n), index N
  /// the prior term L_T. With sampled terms an index no sample drew is NaN.
  public var termMeans: [Double]
  /// How many samples evaluated each term.
  public var termCounts: [Int]
  /// Score evaluations per sample.
  public var nfe: Int
  public var seconds: Double
}

/// The variational bound of a DDPM chain (Ho et al. 2020, eq. 5) with a score model:
///
/// ```
/// L = L_T + Σ_{n=2}^{N} L_{n−1} + L_0
/// L_T     = KL(q(x_N | x₀) ‖ N(0, I))
/// L_{n−1} = KL(q(x_{n−1} | x_n, x₀) ‖ p_θ(x_{n−1} | x_n)),   x_n ~ q(x_n | x₀), one draw per (sample, n)
/// L_0     = −log p_θ(x₀ | x₁)
/// q(x_{n−1} | x_n, x₀) = N(μ̃_n, β̃_n I),  μ̃_n = √ᾱ_{n−1} β_n/(1 − ᾱ_n) x₀ + √α_n (1 − ᾱ_{n−1})/(1 − ᾱ_n) x_n
/// p_θ(x_{n−1} | x_n)   = N(μ_θ, σ_n² I),   μ_θ = (x_n + β_n ∇log p(x_n, t_n))/√α_n
/// KL(N(μ₁, s₁² I) ‖ N(μ₂, s₂² I)) = d/2 (s₁²/s₂² − 1 − log(s₁²/s₂²)) + ‖μ₁ − μ₂‖²/(2 s₂²)
/// ```
///
/// Step n of Ho et al. is the chain's step index n − 1, at t_n = n/N (`DDPMChain`), where the
/// score model is evaluated; μ_θ is Ho et al.'s ε-form with ε̂ = −√(1 − ᾱ_n) ∇log p. With
/// σ² = β̃ the decoder takes β̃₂ (β̃₁ = 0; improved DDPM's clipped log-variance).
public struct DDPMBound<S: ScoreModel>: Sendable {
  public let chain: DDPMChain
  public let score: S
  public let settings: DDPMBoundSettings

  public init(chain: DDPMChain, score: S, settings: DDPMBoundSettings = DDPMBoundSettings()) {
    self.chain = chain
    self.score = score
    self.settings = settings
  }

  var steps: Int { chain.schedule.steps }

  /// ᾱ at Ho et al.'s step n (ᾱ₀ = 1).
  func alphaBar(_ n: Int) -> Double { n == 0 ? 1 : chain.schedule.alphaBars[n - 1] }
  /// β at Ho et al.'s step n ≥ 1.
  func beta(_ n: Int) -> Double { chain.schedule.betas[n - 1] }
  /// β̃_n = β_n (1 − ᾱ_{n−1})/(1 − ᾱ_n).
  func posteriorVariance(_ n: Int) -> Double { beta(n) * (1 - alphaBar(n - 1)) / (1 - alphaBar(n)) }

  /// σ_n² of the reverse kernel at Ho et al.'s step n (for n = 1, the decoder's).
  public func modelVariance(step n: Int) -> Double {
    switch settings.variance {
    case .beta: return beta(n)
    case .posterior: return posteriorVariance(n == 1 ? min(2, steps) : n)
    }
  }

  /// q(x_{n−1} | x_n, x₀) = N(mean, variance · I) for rows of x₀ and x_n (n ≥ 2).
  public func posterior(x0: BatchView, xn: BatchView, step n: Int) -> (mean: [Double], variance: Double) {
    let (abPrevious, ab, b) = (alphaBar(n - 1), alphaBar(n), beta(n))
    let c0 = abPrevious.squareRoot() * b / (1 - ab), cn = (1 - b).squareRoot() * (1 - abPrevious) / (1 - ab)
    return ((0..<x0.count).map { c0 * x0[$0] + cn * xn[$0] }, posteriorVariance(n))
  }

  /// p_θ(x_{n−1} | x_n) = N(mean, variance · I) for rows of x_n: one score evaluation at t_n.
  public func model(xn: BatchView, step n: Int) -> (mean: [Double], variance: Double) {
    var gradient = [Double](repeating: 0, count: xn.count)
    gradient.withUnsafeMutableBufferPointer {
      score.score(xn, t: chain.schedule.time(ofStep: n - 1), into: MutableBatchView($0, dimension: xn.dimension))
    }
    let (b, root) = (beta(n), (1 - beta(n)).squareRoot())
    return ((0..<xn.count).map { (xn[$0] + b * gradient[$0]) / root }, modelVariance(step: n))
  }

  /// L_T of each row of x₀: KL(N(√ᾱ_N x₀, (1 − ᾱ_N) I) ‖ N(0, I)).
  public func priorTerm(_ x0: BatchView) -> [Double] {
    let ab = alphaBar(steps), d = Double(x0.dimension), v = 1 - ab
    return (0..<x0.rows).map { r in
      var squared = 0.0
      for j in 0..<x0.dimension { squared += x0[r, j] * x0[r, j] }
      return 0.5 * (d * v + ab * squared - d - d * Foundation.log(v))
    }
  }

  /// x_n = √ᾱ_n x₀ + √(1 − ᾱ_n) z for rows `samples` (their indices in the run) of x₀, z the
  /// normals of the stream `.boundNoise(term: n)` under `seed`.
  func noised(_ x0: BatchView, step n: Int, samples: Range<Int>, seed: UInt64) -> [Double] {
    var z = [Double](repeating: 0, count: x0.count)
    z.withUnsafeMutableBufferPointer {
      NormalSource(seed: seed).fill(rows: samples, stream: .boundNoise(term: n), count: x0.dimension, scale: 1,
                                    into: $0.baseAddress!)
    }
    return noised(x0, step: n, normals: z)
  }

  /// x_n = √ᾱ_n x₀ + √(1 − ᾱ_n) z for the normals z, row for row of x₀.
  func noised(_ x0: BatchView, step n: Int, normals z: [Double]) -> [Double] {
    let (a, s) = (alphaBar(n).squareRoot(), (1 - alphaBar(n)).squareRoot())
    return (0..<x0.count).map { a * x0[$0] + s * z[$0] }
  }

  /// Term n − 1 (Ho et al.'s L_{n−1}, n = 1 … N) of each row of x₀: one draw of x_n, one score
  /// evaluation.
  func term(_ x0: BatchView, step n: Int, samples: Range<Int>, seed: UInt64) -> [Double] {
    term(x0, step: n, xn: noised(x0, step: n, samples: samples, seed: seed))
  }

  /// Term n − 1 of the rows `rows` of x₀ (a row listed twice is evaluated twice), in one score
  /// evaluation: each row with its own draw of x_n, that of sample `firstSample + row`.
  func term(_ x0: BatchView, rows: [Int], step n: Int, firstSample: Int, seed: UInt64) -> [Double] {
    let d = x0.dimension, source = NormalSource(seed: seed)
    var gathered = [Double](repeating: 0, count: rows.count * d), z = gathered
    z.withUnsafeMutableBufferPointer { z in
      for (i, r) in rows.enumerated() {
        for j in 0..<d { gathered[i * d + j] = x0[r, j] }
        let sample = firstSample + r
        source.fill(rows: sample..<(sample + 1), stream: .boundNoise(term: n), count: d, scale: 1,
                    into: z.baseAddress! + i * d)
      }
    }
    return gathered.withUnsafeBufferPointer { x0p in
      let view = BatchView(x0p, dimension: d)
      return term(view, step: n, xn: noised(view, step: n, normals: z))
    }
  }

  /// Term n − 1 of each row of x₀ from its x_n: one score evaluation.
  func term(_ x0: BatchView, step n: Int, xn: [Double]) -> [Double] {
    let d = x0.dimension
    return xn.withUnsafeBufferPointer { xnp in
      let xnView = BatchView(xnp, dimension: d)
      let (mean, variance) = model(xn: xnView, step: n)
      if n == 1 { return decoderTerm(x0, mean: mean, variance: variance) }
      let (target, posteriorVariance) = posterior(x0: x0, xn: xnView, step: n)
      let ratio = posteriorVariance / variance
      let spread = 0.5 * Double(d) * (ratio - 1 - Foundation.log(ratio))
      return (0..<x0.rows).map { r in
        var squared = 0.0
        for j in 0..<d {
          let difference = target[r * d + j] - mean[r * d + j]
          squared += difference * difference
        }
        return spread + squared / (2 * variance)
      }
    }
  }

  /// −log p_θ(x₀ | x₁) for each row: the Gaussian density, or the probability of x₀'s level cell.
  func decoderTerm(_ x0: BatchView, mean: [Double], variance: Double) -> [Double] {
    let d = x0.dimension, sigma = variance.squareRoot()
    guard let levels = settings.levels else {
      let constant = 0.5 * Double(d) * Foundation.log(2 * Double.pi * variance)
      return (0..<x0.rows).map { r in
        var squared = 0.0
        for j in 0..<d { squared += (x0[r, j] - mean[r * d + j]) * (x0[r, j] - mean[r * d + j]) }
        return constant + squared / (2 * variance)
      }
    }
    let (low, high) = levels.extremeCentres, h = levels.halfWidth
    return (0..<x0.rows).map { r in
      var total = 0.0
      for j in 0..<d {
        let x = x0[r, j], m = mean[r * d + j]
        let lower = x <= low + 0.5 * h ? -Double.infinity : (x - h - m) / sigma
        let upper = x >= high - 0.5 * h ? Double.infinity : (x + h - m) / sigma
        total -= logNormalProbability(from: lower, to: upper)
      }
      return total
    }
  }

  /// The bound of every row of `data` (x₀ in the model's space).
  ///
  /// - Parameters:
  ///   - seed: keys the draws of x_n (stream `.boundNoise(term:)`) and of the sampled terms
  ///     (`.boundTerms`); row i's bound depends on (seed, firstSample + i) only.
  ///   - threads: blocks of rows run in parallel; the result does not depend on it.
  ///   - progress: told the fraction done, from any thread.
  public func evaluate(_ data: StateBatch, seed: UInt64 = 0, firstSample: Int = 0, threads: Int? = nil,
                       progress: (@Sendable (Double) -> Void)? = nil) throws -> DDPMBoundResult {
    try check(data)
    let clock = ContinuousClock(), start = clock.now
    let n = data.count, N = steps
    let blocks = (n + Self.blockRows - 1) / Self.blockRows
    let perSample = SharedResults(rows: n, blocks: blocks, terms: N + 1)
    let threadCount = try resolvedThreadCount(threads)
    let done = Counter()
    forEachRowChunk(blocks, threads: threadCount) { _, blockRange in
      for block in blockRange {
        let rows = (block * Self.blockRows)..<min(n, (block + 1) * Self.blockRows)
        let x0 = data.rows(rows)
        let (values, errors, sums, counts) = x0.withView { view in
          blockBound(view, samples: (firstSample + rows.lowerBound)..<(firstSample + rows.upperBound), seed: seed)
        }
        perSample.store(block: block, rows: rows, values: values, errors: errors, sums: sums, counts: counts)
        progress?(Double(done.increment()) / Double(blocks))
      }
    }
    let (mean, meanError) = meanWithStandardError(perSample.values)
    var termSums = [Double](repeating: 0, count: N + 1), termCounts = [Int](repeating: 0, count: N + 1)
    for block in 0..<blocks {
      for i in 0...N {
        termSums[i] += perSample.sums[block][i]
        termCounts[i] += perSample.counts[block][i]
      }
    }
    let sampledCount: Int? = { if case .sampled(let k) = settings.terms { k } else { nil } }()
    let elapsed = clock.now - start
    return DDPMBoundResult(
      bound: perSample.values, standardError: (sampledCount ?? 0) >= 2 ? perSample.errors : nil,
      mean: mean, meanStandardError: meanError,
      termMeans: (0...N).map { termCounts[$0] == 0 ? .nan : termSums[$0] / Double(termCounts[$0]) },
      termCounts: termCounts, nfe: sampledCount.map { $0 + 1 } ?? N,
      seconds: elapsed.inSeconds)
  }

  /// One block's bounds, their standard errors over sampled terms, and its per-term sums and counts.
  func blockBound(_ x0: BatchView, samples: Range<Int>, seed: UInt64) -> ([Double], [Double], [Double], [Int]) {
    let rows = x0.rows, N = steps
    var sums = [Double](repeating: 0, count: N + 1), counts = [Int](repeating: 0, count: N + 1)
    var errors = [Double](repeating: 0, count: rows)
    let prior = priorTerm(x0)
    var total = prior
    for r in 0..<rows { sums[N] += prior[r] }
    counts[N] = rows
    switch settings.terms {
    case .all:
      for n in 1...N {
        let values = term(x0, step: n, samples: samples, seed: seed)
        for r in 0..<rows {
          total[r] += values[r]
          sums[n - 1] += values[r]
        }
        counts[n - 1] += rows
      }
    case .sampled(let K):
      // Each row's K steps, then one score evaluation per (step, rows drawing it). A score
      // model's rows are independent (a row's result is the bits of evaluating it alone, which
      // the samplers' splits rely on too), so a row's terms do not depend on which other rows
      // drew the same step.
      let generator = NoiseStream.boundTerms.generator(seed: seed)
      var drawn = [[Double]](repeating: [], count: rows)
      var byStep: [Int: [Int]] = [:]
      for r in 0..<rows {
        let row = UInt64(samples.lowerBound + r)
        for k in 0..<K {
          let word = generator.block(UInt32(k), 0, UInt32(truncatingIfNeeded: row), UInt32(truncatingIfNeeded: row >> 32)).0
          let n = 2 + min(N - 2, Int((Double(word) + 0.5) * 0x1p-32 * Double(N - 1)))
          byStep[n, default: []].append(r)
        }
      }
      let decoder = term(x0, step: 1, samples: samples, seed: seed)
      for r in 0..<rows {
        total[r] += decoder[r]
        sums[0] += decoder[r]
      }
      counts[0] += rows
      for n in byStep.keys.sorted() {
        // A row drawing step n twice gets the same x_n and term twice, as the estimator's
        // sampling with replacement says.
        let drawers = byStep[n]!
        let values = term(x0, rows: drawers, step: n, firstSample: samples.lowerBound, seed: seed)
        for (r, value) in zip(drawers, values) {
          drawn[r].append(value)
          sums[n - 1] += value
          counts[n - 1] += 1
        }
      }
      for r in 0..<rows {
        let scaled = drawn[r].map { Double(N - 1) * $0 }
        let (mean, error) = meanWithStandardError(scaled)
        total[r] += mean
        errors[r] = error
      }
    }
    return (total, errors, sums, counts)
  }

  func check(_ data: StateBatch) throws {
    try checkLikelihoodData(data, dimension: score.dimension)
    if case .sampled(let k) = settings.terms, k < 1 {
      throw DiffusionError.invalidSetting("the bound needs at least 1 sampled term, got \(k)")
    }
    if let levels = settings.levels {
      guard levels.levels >= 2 else { throw DiffusionError.invalidSetting("discrete data need at least 2 levels, got \(levels.levels)") }
      let (low, _) = levels.range.bounds, spacing = 2 * levels.halfWidth
      if let index = data.values.firstIndex(where: { value in
        let k = ((value - low) / spacing).rounded()
        return !(k >= 0 && k <= Double(levels.levels - 1) && abs(low + k * spacing - value) <= 1e-9 * spacing)
      }) {
        throw DiffusionError.invalidSetting(
          "data row \(index / data.dimension), coordinate \(index % data.dimension) is \(data.values[index]); the discretised decoder needs the \(levels.levels) level centres of \(levels.range.rawValue) data")
      }
    }
  }

  /// Rows per block of work: blocks, not threads, fix the order of the per-term sums.
  static var blockRows: Int { 256 }
}

/// The bound of every row of `data` under the chain and score model (see `DDPMBound`).
public func ddpmBound<S: ScoreModel>(
  _ data: StateBatch, chain: DDPMChain, score: S, settings: DDPMBoundSettings = DDPMBoundSettings(),
  seed: UInt64 = 0, firstSample: Int = 0, threads: Int? = nil, progress: (@Sendable (Double) -> Void)? = nil
) throws -> DDPMBoundResult {
  try DDPMBound(chain: chain, score: score, settings: settings)
    .evaluate(data, seed: seed, firstSample: firstSample, threads: threads, progress: progress)
}

/// log(Φ(b) − Φ(a)) for a < b, from the tail that keeps the difference accurate.
func logNormalProbability(from a: Double, to b: Double) -> Double {
  let root2 = 2.0.squareRoot()
  let probability: Double
  if a >= 0 {
    probability = 0.5 * (erfc(a / root2) - erfc(b / root2))
  } else if b <= 0 {
    probability = 0.5 * (erfc(-b / root2) - erfc(-a / root2))
  } else {
    probability = 1 - 0.5 * erfc(b / root2) - 0.5 * erfc(-a / root2)
  }
  return Foundation.log(max(probability, Double.leastNormalMagnitude))
}

/// Per-block results written by concurrent blocks.
private final class SharedResults: @unchecked Sendable {
  private let lock = NSLock()
  var values: [Double]
  var errors: [Double]
  var sums: [[Double]]
  var counts: [[Int]]

  init(rows: Int, blocks: Int, terms: Int) {
    values = Array(repeating: 0, count: rows)
    errors = values
    sums = Array(repeating: [], count: blocks)
    counts = Array(repeating: [], count: blocks)
  }

  func store(block: Int, rows: Range<Int>, values blockValues: [Double], errors blockErrors: [Double],
             sums blockSums: [Double], counts blockCounts: [Int]) {
    lock.lock()
    defer { lock.unlock() }
    for (i, r) in rows.enumerated() {
      values[r] = blockValues[i]
      errors[r] = blockErrors[i]
    }
    sums[block] = blockSums
    counts[block] = blockCounts
  }
}

/// A counter shared by threads.
private final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0
  func increment() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value
  }
}
