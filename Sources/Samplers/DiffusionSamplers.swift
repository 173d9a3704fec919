import Dispatch
import Foundation
import ScoreModels
import SDEKit

/// The predictor of the predictor–corrector sampler (Song et al. 2021, Appendix F and G).
public enum PCPredictor: String, Sendable, Hashable, Codable, CaseIterable {
  /// An Euler–Maruyama step of the reverse SDE.
  case eulerMaruyama = "euler-maruyama"
  /// The reverse of the forward chain's discretisation from t′ to t:
  /// x′ = x − (a_t/a_t′ − 1)x + G² s_θ + G z, G² = s_t² − (a_t/a_t′)² s_t′².
  case reverseDiffusion = "reverse-diffusion"
  /// Ancestral sampling: DDPM's step for a process with drift, SMLD's
  /// x′ = x + (σ_t² − σ_t′²) s_θ + √(σ_t′²(σ_t² − σ_t′²)/σ_t²) z when a ≡ 1 (VE).
  case ancestral
}

/// Settings shared by the diffusion-specific samplers.
public struct DiffusionSamplerSettings: Sendable, Hashable, Codable {
  /// DDPM's per-step variance: β (true) or the posterior β̃ (false).
  public var ancestralUsesBeta: Bool = true
  /// DDIM's η ∈ [0, 1]: 0 deterministic, 1 DDPM-like.
  public var eta: Double = 0
  /// Langevin signal-to-noise ratio r: corrector step ε = 2 r² s(t)².
  public var snr: Double = 0.16
  /// Langevin corrector steps per noise level.
  public var correctorSteps: Int = 1
  /// The predictor of `pc-langevin`.
  public var predictor: PCPredictor = .reverseDiffusion

  public init(ancestralUsesBeta: Bool = true, eta: Double = 0, snr: Double = 0.16, correctorSteps: Int = 1,
              predictor: PCPredictor = .reverseDiffusion) {
    self.ancestralUsesBeta = ancestralUsesBeta
    self.eta = eta
    self.snr = snr
    self.correctorSteps = correctorSteps
    self.predictor = predictor
  }
}

/// The loops of the samplers that are not SDE or ODE solvers. Each runs on row chunks in
/// parallel; every random number is addressed by (seed, row, sub-step), so results do not
/// depend on the split.
enum DiffusionLoops {
  /// DDPM ancestral sampling (Ho et al. 2020, Algorithm 2) on a time grid of a variance-
  /// preserving process, with ᾱ(t) = a(t)²: from t to t′, α = ᾱ(t)/ᾱ(t′), β = 1 − α,
  /// x′ = (x + β s_θ(x, t))/√α + σ z with σ² = β or β(1 − ᾱ(t′))/(1 − ᾱ(t)); no noise on the last step.
  static func ancestral<P: DiffusionProcess, S: ScoreModel>(
    _ x: UnsafeMutableBufferPointer<Double>, rows: Range<Int>, process: P, score: S, times: [Double],
    settings: DiffusionSamplerSettings, seed: UInt64
  ) {
    scoreStepLoop(x, rows: rows, score: score, times: times, seed: seed) { n in
      let alphaBar = square(process.meanCoefficient(times[n])), alphaBarNext = square(process.meanCoefficient(times[n + 1]))
      let alpha = alphaBar / alphaBarNext, beta = 1 - alpha
      let variance = settings.ancestralUsesBeta ? beta : beta * (1 - alphaBarNext) / (1 - alphaBar)
      let inverseRoot = 1 / alpha.squareRoot()
      return (inverseRoot, beta * inverseRoot, n == times.count - 2 ? 0 : variance.squareRoot())
    }
  }

  /// DDIM (Song, Meng & Ermon 2021, eq. 12) on a time grid of a variance-preserving process:
  /// x̂₀ = (x − √(1 − ᾱ) ε̂)/√ᾱ, x′ = √ᾱ′ x̂₀ + √(1 − ᾱ′ − σ²) ε̂ + σ z,
  /// σ = η √((1 − ᾱ′)/(1 − ᾱ)) √(1 − ᾱ/ᾱ′), ε̂ = −√(1 − ᾱ) s_θ; with ε̂ substituted,
  /// x′ = (√ᾱ′/√ᾱ) x + (√ᾱ′ (1 − ᾱ)/√ᾱ − √(1 − ᾱ′ − σ²) √(1 − ᾱ)) s_θ + σ z.
  static func ddim<P: DiffusionProcess, S: ScoreModel>(
    _ x: UnsafeMutableBufferPointer<Double>, rows: Range<Int>, process: P, score: S, times: [Double],
    settings: DiffusionSamplerSettings, seed: UInt64
  ) {
    scoreStepLoop(x, rows: rows, score: score, times: times, seed: seed) { n in
      let alphaBar = square(process.meanCoefficient(times[n])), alphaBarNext = square(process.meanCoefficient(times[n + 1]))
      let sigma = settings.eta * ((1 - alphaBarNext) / (1 - alphaBar) * (1 - alphaBar / alphaBarNext)).squareRoot()
      let ratio = (alphaBarNext / alphaBar).squareRoot()
      let direction = max(0, 1 - alphaBarNext - sigma * sigma).squareRoot()
      return (ratio, ratio * (1 - alphaBar) - direction * (1 - alphaBar).squareRoot(), sigma)
    }
  }

  /// The loop DDPM and DDIM share: at each step the score at t and the step's normals, then
  /// x ← m·x + v·s_θ + σ·z with (m, v, σ) = `coefficients(n)` (normals skipped when σ = 0).
  static func scoreStepLoop<S: ScoreModel>(
    _ x: UnsafeMutableBufferPointer<Double>, rows: Range<Int>, score: S, times: [Double], seed: UInt64,
    coefficients: (Int) -> (m: Double, v: Double, sigma: Double)
  ) {
    var gradient = [Double](repeating: 0, count: x.count)
    var z = gradient
    for n in 0..<(times.count - 1) {
      let (m, v, sigma) = coefficients(n)
      gradient.withUnsafeMutableBufferPointer { score.score(UnsafeBufferPointer(x), t: times[n], into: $0) }
      normals(&z, rows: rows, step: n, dimension: score.dimension, seed: seed, skip: sigma == 0)
      linearUpdate(x, m: m, v: v, sigma: sigma, gradient: gradient, z: z)
    }
  }

  /// x ← m·x + v·s_θ + σ·z, the form of every step of these samplers.
  @inline(__always)
  static func linearUpdate(_ x: UnsafeMutableBufferPointer<Double>, m: Double, v: Double, sigma: Double,
                           gradient: [Double], z: [Double]) {
    for e in 0..<x.count { x[e] = m * x[e] + v * gradient[e] + sigma * z[e] }
  }

  /// Predictor–corrector sampling (Song et al. 2021, Algorithms 2 and 3): at each grid time K
  /// Langevin corrector steps x ← x + ε s_θ + √(2ε) z, then the chosen predictor to the next
  /// time (no noise on the last step). With `predictor == false` it is
  /// annealed Langevin dynamics over the grid's noise levels (Song & Ermon 2019, Algorithm 1,
  /// whose step α_i ∝ σ_i² is the ε below).
  static func predictorCorrector<P: DiffusionProcess, S: ScoreModel>(
    _ x: UnsafeMutableBufferPointer<Double>, rows: Range<Int>, process: P, score: S, times: [Double],
    settings: DiffusionSamplerSettings, seed: UInt64, predictor: Bool
  ) {
    let d = score.dimension, K = settings.correctorSteps
    var gradient = [Double](repeating: 0, count: x.count)
    var z = gradient
    for n in 0..<(times.count - 1) {
      let (t, next) = (times[n], times[n + 1])
      // Corrector at the current noise level, then (for PC) the predictor to the next one.
      // ε = 2 r² s(t)²: for a Gaussian p_t of variance s² the score has norm ≈ ‖z‖/s, so this
      // is score_sde's 2 (r ‖z‖ / ‖s_θ‖)² with the norms replaced by their typical values. The
      // sampled norms would make ε explode for a sample sitting on a mode (‖s_θ‖ → 0), and
      // score_sde's batch averages would tie samples together.
      let sd = process.standardDeviation(t)
      let step = 2 * settings.snr * settings.snr * sd * sd
      let root = (2 * step).squareRoot()
      for k in 0..<K {
        gradient.withUnsafeMutableBufferPointer { score.score(UnsafeBufferPointer(x), t: t, into: $0) }
        normals(&z, rows: rows, step: n * (K + 1) + k + 1, dimension: d, seed: seed, skip: false)
        for e in 0..<x.count { x[e] += step * gradient[e] + root * z[e] }
      }
      guard predictor else { continue }
      gradient.withUnsafeMutableBufferPointer { score.score(UnsafeBufferPointer(x), t: t, into: $0) }
      let last = n == times.count - 2
      normals(&z, rows: rows, step: n * (K + 1), dimension: d, seed: seed, skip: last)
      // Every predictor is x′ = m·x + v·s_θ + σ·z; only the three coefficients differ.
      let (m, v, sigma): (Double, Double, Double)
      let ratio = process.meanCoefficient(t) / process.meanCoefficient(next)
      let (sNow, sNext) = (process.standardDeviation(t), process.standardDeviation(next))
      switch settings.predictor {
      case .eulerMaruyama:
        let h = next - t, c = process.driftRate(t), g = process.diffusion(t)
        (m, v, sigma) = (1 + h * c, -h * g * g, g * abs(h).squareRoot())
      case .reverseDiffusion:
        let g2 = sNow * sNow - ratio * ratio * sNext * sNext
        (m, v, sigma) = (2 - ratio, g2, g2.squareRoot())
      case .ancestral where process.driftRate(t) == 0:
        let jump = sNow * sNow - sNext * sNext
        (m, v, sigma) = (1, jump, (sNext * sNext * jump / (sNow * sNow)).squareRoot())
      case .ancestral:
        let alpha = ratio * ratio, beta = 1 - alpha
        (m, v, sigma) = (1 / alpha.squareRoot(), beta / alpha.squareRoot(), beta.squareRoot())
      }
      linearUpdate(x, m: m, v: v, sigma: last ? 0 : sigma, gradient: gradient, z: z)
    }
  }

  /// Standard normals for rows × dimension at (seed, row, step), or zeros when `skip`.
  static func normals(_ z: inout [Double], rows: Range<Int>, step: Int, dimension: Int, seed: UInt64, skip: Bool) {
    if skip {
      for e in z.indices { z[e] = 0 }
      return
    }
    z.withUnsafeMutableBufferPointer { out in
      NormalSource(seed: seed).fill(rows: rows, step: step, count: dimension, scale: 1, into: out.baseAddress!)
    }
  }

  @inline(__always) static func square(_ v: Double) -> Double { v * v }
}

/// Runs `body` on chunks of rows of `state` in parallel; each chunk sees only its own rows, and
/// is told their sample indices (row r of `state` is sample `firstRow + r`).
func forEachChunk(of state: inout StateBatch, firstRow: Int, threads: Int,
                  _ body: @Sendable (Range<Int>, UnsafeMutableBufferPointer<Double>) -> Void) {
  let rows = state.count, d = state.dimension
  let chunks = max(1, min(threads, rows))
  state.values.withUnsafeMutableBufferPointer { buffer in
    let shared = SharedState(buffer: buffer)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      let range = (rows * c / chunks)..<(rows * (c + 1) / chunks)
      guard !range.isEmpty else { return }
      body((firstRow + range.lowerBound)..<(firstRow + range.upperBound),
           UnsafeMutableBufferPointer(rebasing: shared.buffer[(range.lowerBound * d)..<(range.upperBound * d)]))
    }
  }
}

private struct SharedState: @unchecked Sendable {
  let buffer: UnsafeMutableBufferPointer<Double>
}
