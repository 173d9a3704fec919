import ScoreModels
import SDEKit

/// Euler's method on the flow-matching ODE dx/dτ = v(x, τ): diffusers'
/// `FlowMatchEulerDiscreteScheduler`, on any process through x̄ = x/(a + s), which satisfies
/// x̄ = (1 − τ)x₀ + τn with τ = s/(a + s) (on `flow` a + s = 1: x̄ = x and τ is its own time).
///
/// Deterministic, first order, one evaluation per step. With v = (x̄ − m)/τ, m the data prediction:
///
/// ```
/// x̄′ = x̄ + (τ′ − τ) v,   x′ = (a′ + s′) x̄′
/// ```
///
/// (Algebraically the same map as `edm-euler`, `dpm-solver-1` and DDIM with η = 0 — the straight
/// path makes Euler in τ and in σ coincide — computed here in diffusers' form.) A step to τ′ = 0
/// returns x̄ − τ v = m.
public struct FlowEuler: DiffusionSampler {
  public init() {}

  public func makeWorkspace(rows: Int, dimension: Int) -> DenoisedWorkspace {
    DenoisedWorkspace(rows: rows, dimension: dimension)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout DenoisedWorkspace
  ) {
    let level = model.level(step.t), next = model.level(step.next)
    model.denoised(x.view, t: step.t, into: workspace.denoised)
    let scale = level.a + level.s, nextScale = next.a + next.s
    let tau = level.s / scale, dt = next.s / nextScale - tau
    let xv = x.values, m = workspace.denoised.values
    for e in 0..<xv.count {
      let flat = xv[e] / scale
      xv[e] = nextScale * (flat + dt * ((flat - m[e]) / tau))
    }
  }
}
