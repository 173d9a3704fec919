import Foundation
import ScoreModels
import SDEKit

/// DPM-Solver++(2M) SDE (Lu et al. 2022b, §5; k-diffusion's `sample_dpmpp_2m_sde`): the
/// second-order multistep solver of the reverse-time SDE in data prediction, with η scaling the
/// noise (η = 0: the probability-flow ODE, DPM-Solver++(2M) in diffusers' "heun" or
/// k-diffusion's "midpoint" form).
///
/// Stochastic for η > 0 (default η = 1), one evaluation per step, second order at η = 0. On
/// x̃ = x/a from σ to σ′, h = λ′ − λ, r = h_{i−1}/h, z the step's own noise:
///
/// ```
/// x̃′ = (σ′/σ) e^{−ηh} x̃ + (1 − e^{−(1+η)h}) m_i
///       + c (m_i − m_{i−1})/r                    (from the second step on)
///       + S_noise σ′ √(1 − e^{−2ηh}) z
/// midpoint: c = ½ (1 − e^{−(1+η)h});   heun: c = (e^{−(1+η)h} − 1)/((1+η)h) + 1
/// x′ = a′ x̃′
/// ```
///
/// A step to σ′ = 0 returns a′·m_i.
public struct DPMSolverPlusPlus2MSDE: DiffusionSampler {
  public var eta: Double
  public var noiseScale: Double
  public var solverType: SDESolverType

  public init(settings: FastSamplerSettings = FastSamplerSettings()) {
    eta = settings.resolvedEta
    noiseScale = settings.resolvedNoiseScale
    solverType = settings.solverType ?? .midpoint
  }

  public func makeWorkspace(rows: Int, dimension: Int) -> MultistepHistory {
    MultistepHistory(rows: rows, dimension: dimension, depth: 1)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace history: inout MultistepHistory
  ) {
    let level = model.level(step.t), next = model.level(step.next)
    model.denoised(x.view, t: step.t, into: history.denoised)
    let h = next.lambda - level.lambda
    defer { history.push(stepSize: h) }
    guard next.s != 0 else { return firstOrderStep(x, denoised: history.denoised.view, from: level, to: next) }
    // η·h with η = 0 is 0 even where h = ∞ (a start at σ = ∞).
    let etaH = eta == 0 ? 0 : eta * h
    let total = -h - etaH
    let xWeight = next.s / level.s * exp(-etaH), mWeight = -next.a * expm1(total)
    var correction = 0.0
    if history.count > 0 {
      let inverseR = h / history.previousStepSizes[0]
      let c = switch solverType {
      case .midpoint: 0.5 * -expm1(total)
      case .heun: -expm1(total) / total + 1
      }
      correction = next.a * c * inverseR
    }
    let spread = eta == 0 ? 0 : next.s * noiseScale * (-expm1(-2 * etaH)).squareRoot()
    let xv = x.values, m = history.denoised.values
    let previous = history.previousDenoised[0].values
    let z = spread == 0 ? nil : noise.standardNormals(over: step).values
    for e in 0..<xv.count {
      var value = xWeight * xv[e] + mWeight * m[e]
      if correction != 0 { value += correction * (m[e] - previous[e]) }
      if let z { value += spread * z[e] }
      xv[e] = value
    }
  }
}
