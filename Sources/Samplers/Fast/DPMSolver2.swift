import Foundation
import ScoreModels
import SDEKit

/// DPM-Solver-2 (Lu et al. 2022, Algorithm 1 with r₁ = ½): the single-step second-order
/// exponential integrator of the probability-flow ODE in noise prediction ε̂ = (x − a m)/s.
///
/// Deterministic, second order, two evaluations per step (one on a step to σ′ = 0, which returns
/// the data prediction a′·m). From t to t′, h = λ′ − λ, the intermediate time u at λ + h/2
/// (σ_u = √(σ σ′), its time from the process's inverse of σ):
///
/// ```
/// x_u = (a_u/a) x − s_u (e^{λ_u − λ} − 1) ε̂(x, t)
/// x′  = (a′/a) x − s′ (e^h − 1) ε̂(x_u, u)
/// ```
///
/// Needs a finite σ at the first grid time.
public struct DPMSolver2: DiffusionSampler {
  public init() {}

  public func makeWorkspace(rows: Int, dimension: Int) -> TwoStageWorkspace {
    TwoStageWorkspace(rows: rows, dimension: dimension)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout TwoStageWorkspace
  ) {
    let level = model.level(step.t), next = model.level(step.next)
    model.denoised(x.view, t: step.t, into: workspace.denoised)
    guard next.s != 0 else { return firstOrderStep(x, denoised: workspace.denoised.view, from: level, to: next) }
    let h = next.lambda - level.lambda
    let middle = model.level(atNoiseLevel: level.sigma * exp(-0.5 * h))
    // ε̂ at t (in place of m), then the intermediate state.
    let xv = x.values, noise0 = workspace.denoised.values, stage = workspace.stage.values
    let toMiddle = middle.a / level.a, middleWeight = middle.s * expm1(middle.lambda - level.lambda)
    for e in 0..<xv.count {
      noise0[e] = (xv[e] - level.a * noise0[e]) / level.s
      stage[e] = toMiddle * xv[e] - middleWeight * noise0[e]
    }
    model.denoised(workspace.stage.view, t: middle.t, into: workspace.stageDenoised)
    let toNext = next.a / level.a, nextWeight = next.s * expm1(h)
    let m1 = workspace.stageDenoised.values
    for e in 0..<xv.count {
      let noise1 = (stage[e] - middle.a * m1[e]) / middle.s
      xv[e] = toNext * xv[e] - nextWeight * noise1
    }
  }
}
