import Foundation
import ScoreModels
import SDEKit

/// A process at one time as the fast samplers read it: a and s of x_t = a x₀ + s n, and the
/// noise level σ = s/a and half log-SNR λ = log(a/s) derived from them. σ = ∞, λ = −∞ where
/// a = 0 (flow matching at τ = 1); σ = 0, λ = +∞ where s = 0 (the data, a final step to σ = 0).
struct NoiseLevel {
  let t: Double
  let a: Double
  let s: Double

  var sigma: Double { s / a }
  var lambda: Double { Foundation.log(a / s) }
}

extension SamplerModel {
  func level(_ t: Double) -> NoiseLevel { NoiseLevel(t: t, a: a(t), s: s(t)) }
  /// The level at noise level σ, off the grid: its time from the process's inverse of σ(t).
  func level(atNoiseLevel sigma: Double) -> NoiseLevel { level(process.time(ofNoiseLevel: sigma)) }
}

/// The buffers of a sampler that keeps one data prediction per step.
public struct DenoisedWorkspace {
  /// E[x₀ | x_t] at the step's start.
  public let denoised: MutableBatchView
  let owner = BufferOwner()

  public init(rows: Int, dimension: Int) { denoised = owner.buffer(rows: rows, dimension: dimension) }
}

/// The buffers of a two-stage sampler (Heun-type, or a single-step solver with one intermediate
/// point): the first prediction, the intermediate state and its prediction.
public struct TwoStageWorkspace {
  public let denoised: MutableBatchView
  public let stage: MutableBatchView
  public let stageDenoised: MutableBatchView
  let owner = BufferOwner()

  public init(rows: Int, dimension: Int) {
    denoised = owner.buffer(rows: rows, dimension: dimension)
    stage = owner.buffer(rows: rows, dimension: dimension)
    stageDenoised = owner.buffer(rows: rows, dimension: dimension)
  }
}

/// The first-order exponential-integrator step (DDIM, DPM-Solver-1, Euler in σ on x/a):
/// x' = (s'/s)x + (a' − a s'/s)·m, which stays finite at a = 0 (σ = ∞) and gives a'·m at s' = 0.
@inline(__always)
func firstOrderStep(_ x: MutableBatchView, denoised m: BatchView, from level: NoiseLevel, to next: NoiseLevel) {
  let ratio = next.s / level.s, weight = next.a - level.a * ratio
  let x = x.values, m = m.values
  for e in 0..<x.count { x[e] = ratio * x[e] + weight * m[e] }
}

/// Copies `source` into `destination` (of the same shape).
@inline(__always)
func copy(_ source: BatchView, into destination: MutableBatchView) {
  _ = destination.values.update(fromContentsOf: source.values)
}

/// k-diffusion's `get_ancestral_step`: the step from σ to σ' split into a deterministic move to
/// σ_down and fresh noise of standard deviation σ_up, σ_down² + σ_up² = σ'²:
/// σ_up = min(σ', η σ' √(1 − σ'²/σ²)), σ_down = √(σ'² − σ_up²). (k-diffusion writes
/// √(σ'²(σ² − σ'²)/σ²); this form also holds at σ = ∞.)
func ancestralLevels(from sigma: Double, to next: Double, eta: Double) -> (down: Double, up: Double) {
  guard eta != 0 else { return (next, 0) }
  let up = sigma.isInfinite ? min(next, eta * next)
    : min(next, eta * (next * next * (sigma * sigma - next * next) / (sigma * sigma)).squareRoot())
  return ((next * next - up * up).squareRoot(), up)
}

/// The ancestral samplers' update: x ← xWeight·x + mWeight·m, plus a′ S_noise σ_up z when the
/// step ends above σ′ = 0 and σ_up > 0 (k-diffusion adds no noise on a step to σ′ = 0). z is the
/// step's own noise.
func ancestralUpdate<B: BrownianSource>(
  _ x: MutableBatchView, xWeight: Double, denoised m: BatchView, mWeight: Double, to next: NoiseLevel, up: Double,
  noiseScale: Double, step: GridStep, noise: SamplerNoise<B>
) {
  let xv = x.values, m = m.values
  if next.s > 0, up > 0 {
    let z = noise.standardNormals(over: step).values, spread = next.a * noiseScale * up
    for e in 0..<xv.count { xv[e] = xWeight * xv[e] + mWeight * m[e] + spread * z[e] }
  } else {
    for e in 0..<xv.count { xv[e] = xWeight * xv[e] + mWeight * m[e] }
  }
}

/// Karras et al. (2022)'s stochasticity, Algorithm 2 lines 4–6: before the step from σ, raise
/// the noise level to σ̂ = σ(1 + γ) with γ = min(S_churn/N, √2 − 1) where S_tmin ≤ σ ≤ S_tmax
/// (N the number of steps), by adding S_noise·√(σ̂² − σ²)·z to x/a. As k-diffusion's
/// `sample_euler` and `sample_heun`; the model is then evaluated at the time of σ̂.
struct KarrasChurn {
  var churn: Double
  var minimum: Double
  var maximum: Double
  var noiseScale: Double

  init(_ settings: FastSamplerSettings) {
    churn = settings.resolvedChurn
    minimum = settings.churnMinimum ?? 0
    maximum = settings.churnMaximum ?? .infinity
    noiseScale = settings.resolvedNoiseScale
  }

  /// Raises `x` from `level` to σ̂ in place and returns the level it is at.
  func apply<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, at level: NoiseLevel, step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>
  ) -> NoiseLevel {
    guard churn > 0 else { return level }
    let sigma = level.sigma
    guard minimum <= sigma, sigma <= maximum else { return level }
    let gamma = min(churn / Double(step.count), 2.0.squareRoot() - 1)
    let raisedSigma = sigma * (gamma + 1)
    let raised = model.level(atNoiseLevel: raisedSigma)
    let spread = noiseScale * (raisedSigma * raisedSigma - sigma * sigma).squareRoot()
    let z = noise.standardNormals(over: step).values, x = x.values
    let inverse = 1 / level.a
    for e in 0..<x.count { x[e] = raised.a * (x[e] * inverse + spread * z[e]) }
    return raised
  }
}
