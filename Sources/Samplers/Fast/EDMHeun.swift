import ScoreModels
import SDEKit

/// Heun's method on the probability-flow ODE in σ with Karras's churn: Karras et al. (2022),
/// Algorithm 2 (Algorithm 1 without churn), k-diffusion's `sample_heun`.
///
/// Second order; two evaluations per step, one on a step to σ′ = 0 (Euler there, which returns
/// the data prediction); deterministic without churn (the default). On x̃ = x/a, with
/// d(x̃, σ) = (x̃ − D(x̃; σ))/σ = (x − a m)/s and the step from σ (after churn, σ̂) to σ′:
///
/// ```
/// x̃₂ = x̃ + d(x̃, σ)(σ′ − σ)
/// x̃′ = x̃ + ½ (d(x̃, σ) + d(x̃₂, σ′)) (σ′ − σ)           (σ′ > 0)
/// ```
///
/// Needs a finite σ at the first grid time (not flow matching's τ = 1, where σ = ∞).
public struct EDMHeun: DiffusionSampler {
  let churn: KarrasChurn

  public init(settings: FastSamplerSettings = FastSamplerSettings()) { churn = KarrasChurn(settings) }

  public func makeWorkspace(rows: Int, dimension: Int) -> TwoStageWorkspace {
    TwoStageWorkspace(rows: rows, dimension: dimension)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout TwoStageWorkspace
  ) {
    let level = churn.apply(x, at: model.level(step.t), step: step, model: model, noise: noise)
    let next = model.level(step.next)
    model.denoised(x.view, t: level.t, into: workspace.denoised)
    guard next.s != 0 else {
      return firstOrderStep(x, denoised: workspace.denoised.view, from: level, to: next)
    }
    let stage = workspace.stage
    copy(x.view, into: stage)
    firstOrderStep(stage, denoised: workspace.denoised.view, from: level, to: next)
    model.denoised(stage.view, t: next.t, into: workspace.stageDenoised)
    // x′ = a′(x/a + ½(d + d₂)(σ′ − σ)), d = (x − a m)/s, d₂ = (x₂ − a′m₂)/s′.
    let half = 0.5 * (next.sigma - level.sigma), scale = next.a / level.a
    let xv = x.values, m = workspace.denoised.values, x2 = stage.values, m2 = workspace.stageDenoised.values
    for e in 0..<xv.count {
      let d = (xv[e] - level.a * m[e]) / level.s, d2 = (x2[e] - next.a * m2[e]) / next.s
      xv[e] = scale * xv[e] + next.a * half * (d + d2)
    }
  }
}
