import ScoreModels
import SDEKit

/// DPM-Solver-1 (Lu et al. 2022, eq. 3.7 with k = 1): the first-order exponential integrator of
/// the probability-flow ODE in noise prediction — the same map as DDIM with η = 0 and as Euler's
/// method in σ (`edm-euler` without churn), up to rounding.
///
/// Deterministic, first order, one evaluation per step. From t to t′ with h = λ′ − λ and
/// ε̂ = (x − a m)/s:
///
/// ```
/// x′ = (a′/a) x − s′ (e^h − 1) ε̂      = (s′/s) x + (a′ − a s′/s) m
/// ```
///
/// computed in the second form, which holds at a = 0 (σ = ∞) and returns a′·m at σ′ = 0.
public struct DPMSolver1: DiffusionSampler {
  public init() {}

  public func makeWorkspace(rows: Int, dimension: Int) -> DenoisedWorkspace {
    DenoisedWorkspace(rows: rows, dimension: dimension)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout DenoisedWorkspace
  ) {
    model.denoised(x.view, t: step.t, into: workspace.denoised)
    firstOrderStep(x, denoised: workspace.denoised.view, from: model.level(step.t), to: model.level(step.next))
  }
}
