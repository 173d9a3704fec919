import Foundation
import ScoreModels
import SDEKit

/// DPM-Solver++(2S) ancestral sampling (k-diffusion's `sample_dpmpp_2s_ancestral`): a
/// single-step second-order DPM-Solver++ (Lu et al. 2022b, Algorithm 1, r = ½) from σ to σ_down,
/// then fresh noise up to σ′ as in Euler ancestral.
///
/// Stochastic for η > 0 (default η = 1; η = 0 is deterministic DPM-Solver++(2S), second order);
/// two evaluations per step, one where σ_down = 0 (a step to σ′ = 0, or a step where η is large
/// enough that σ_up = σ′: x′ = a′(m + S_noise σ′ z), k-diffusion's Euler branch). On x̃ = x/a, with (σ_down, σ_up) =
/// `ancestralLevels(σ, σ′, η)`, h = log(σ/σ_down), the intermediate level σ_u = √(σ σ_down) at
/// its time u:
///
/// ```
/// x̃_u = (σ_u/σ) x̃ − (e^{−h/2} − 1) m
/// x̃′  = (σ_down/σ) x̃ − (e^{−h} − 1) D(a_u x̃_u; u) + S_noise σ_up z
/// x′  = a′ x̃′
/// ```
///
/// Needs a finite σ at the first grid time.
public struct DPMSolverPlusPlus2SAncestral: DiffusionSampler {
  public var eta: Double
  public var noiseScale: Double

  public init(settings: FastSamplerSettings = FastSamplerSettings()) {
    eta = settings.resolvedEta
    noiseScale = settings.resolvedNoiseScale
  }

  public func makeWorkspace(rows: Int, dimension: Int) -> TwoStageWorkspace {
    TwoStageWorkspace(rows: rows, dimension: dimension)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout TwoStageWorkspace
  ) {
    let level = model.level(step.t), next = model.level(step.next)
    model.denoised(x.view, t: step.t, into: workspace.denoised)
    let (down, up) = ancestralLevels(from: level.sigma, to: next.sigma, eta: eta)
    guard down != 0 else {
      // σ_down = 0 (a step to σ′ = 0, or η large enough that σ_up = σ′): as k-diffusion, Euler to
      // σ_down, which lands on the data prediction, then the noise up to σ′: x′ = a′(m + S_noise σ′ z).
      ancestralUpdate(x, xWeight: 0, denoised: workspace.denoised.view, mWeight: next.a, to: next, up: up,
                      noiseScale: noiseScale, step: step, noise: noise)
      return
    }
    let h = log(level.sigma / down)
    let middle = model.level(atNoiseLevel: level.sigma * exp(-0.5 * h))
    // x_u = a_u x̃_u with x̃_u = (σ_u/σ)(x/a) + (1 − σ_u/σ) m.
    let middleRatio = middle.sigma / level.sigma
    let toMiddle = middle.a * middleRatio / level.a, middleWeight = middle.a * (1 - middleRatio)
    let xv = x.values, m = workspace.denoised.values, stage = workspace.stage.values
    for e in 0..<xv.count { stage[e] = toMiddle * xv[e] + middleWeight * m[e] }
    model.denoised(workspace.stage.view, t: middle.t, into: workspace.stageDenoised)
    let toNext = next.a * down / level.sigma / level.a, weight = -next.a * expm1(-h)
    ancestralUpdate(x, xWeight: toNext, denoised: workspace.stageDenoised.view, mWeight: weight, to: next, up: up,
                    noiseScale: noiseScale, step: step, noise: noise)
  }
}
