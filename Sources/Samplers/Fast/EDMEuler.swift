import ScoreModels
import SDEKit

/// Euler's method on the probability-flow ODE in σ (Karras et al. 2022, Algorithm 2 with the
/// second-order correction left out), with Karras's optional churn: k-diffusion's `sample_euler`.
///
/// First order; one evaluation per step; deterministic without churn (S_churn = 0, the default),
/// stochastic with it. On x̃ = x/a, which satisfies x̃ = x₀ + σ n for every process,
/// dx̃/dσ = (x̃ − D(x̃; σ))/σ. From σ (after churn, σ̂) to σ′, with m the data prediction:
///
/// ```
/// x̃′ = x̃ + (x̃ − m)/σ · (σ′ − σ)      i.e.  x′ = (s′/s) x + (a′ − a s′/s) m
/// ```
///
/// The second form (the same up to rounding) stays finite at a = 0, so the sampler starts at
/// flow matching's τ = 1. A step to σ′ = 0 returns a′·m: the data prediction.
public struct EDMEuler: DiffusionSampler {
  let churn: KarrasChurn

  public init(settings: FastSamplerSettings = FastSamplerSettings()) { churn = KarrasChurn(settings) }

  public func makeWorkspace(rows: Int, dimension: Int) -> DenoisedWorkspace {
    DenoisedWorkspace(rows: rows, dimension: dimension)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout DenoisedWorkspace
  ) {
    let level = churn.apply(x, at: model.level(step.t), step: step, model: model, noise: noise)
    model.denoised(x.view, t: level.t, into: workspace.denoised)
    firstOrderStep(x, denoised: workspace.denoised.view, from: level, to: model.level(step.next))
  }
}
