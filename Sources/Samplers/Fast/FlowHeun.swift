import ScoreModels
import SDEKit

/// Heun's method on the flow-matching ODE dx/dτ = v(x, τ): diffusers'
/// `FlowMatchHeunDiscreteScheduler`, on any process through x̄ = x/(a + s) and τ = s/(a + s)
/// (see `FlowEuler`).
///
/// Deterministic, second order; two evaluations per step, one on a step to τ′ = 0 (Euler there,
/// which returns the data prediction). With v = (x̄ − m)/τ:
///
/// ```
/// x̄₂ = x̄ + (τ′ − τ) v(x̄, τ)
/// x̄′ = x̄ + ½ (τ′ − τ) (v(x̄, τ) + v(x̄₂, τ′))        (τ′ > 0)
/// ```
///
/// Starts at τ = 1 (σ = ∞), unlike `edm-heun`.
public struct FlowHeun: DiffusionSampler {
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
    let scale = level.a + level.s, nextScale = next.a + next.s
    let tau = level.s / scale, nextTau = next.s / nextScale, dt = nextTau - tau
    let xv = x.values, m = workspace.denoised.values, stage = workspace.stage.values
    guard nextTau != 0 else {
      for e in 0..<xv.count {
        let flat = xv[e] / scale
        xv[e] = nextScale * (flat + dt * ((flat - m[e]) / tau))
      }
      return
    }
    for e in 0..<xv.count {
      let flat = xv[e] / scale
      stage[e] = nextScale * (flat + dt * ((flat - m[e]) / tau))
    }
    model.denoised(workspace.stage.view, t: next.t, into: workspace.stageDenoised)
    let m2 = workspace.stageDenoised.values
    for e in 0..<xv.count {
      let flat = xv[e] / scale, flat2 = stage[e] / nextScale
      let v = (flat - m[e]) / tau, v2 = (flat2 - m2[e]) / nextTau
      xv[e] = nextScale * (flat + 0.5 * dt * (v + v2))
    }
  }
}
