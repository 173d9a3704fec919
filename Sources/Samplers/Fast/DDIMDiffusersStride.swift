import ScoreModels
import SDEKit

/// DDIM as diffusers' `DDIMScheduler` steps on the DDPM chain: from timestep τ to
/// τ − ⌊N/n⌋ (its `previous_timestep`, ᾱ = 1 below 0) whatever time the grid visits next. With
/// diffusers' linspace DDIM timesteps those differ (999 steps to 899, the next evaluation is at
/// 888 for n = 10), so the state reaches each evaluation at another noise level than the one it
/// was moved to: diffusers' inconsistency, reproduced on request only
/// (`FastSamplerSettings.diffusersDDIMStride`). Otherwise `DDIM` itself.
public struct DDIMDiffusersStride: DiffusionSampler {
  public var ddim: DDIM
  /// ⌊N/n⌋/N: the time between τ and τ − ⌊N/n⌋ on the chain (t = (τ + 1)/N).
  public var stride: Double

  public init(eta: Double, trainSteps: Int, steps: Int) {
    ddim = DDIM(eta: eta)
    stride = Double(trainSteps / steps) / Double(trainSteps)
  }

  public func makeWorkspace(rows: Int, dimension: Int) -> ScoreBuffer { ddim.makeWorkspace(rows: rows, dimension: dimension) }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout ScoreBuffer
  ) {
    // Within 1e-9 of a step time the chain snaps to it; at or below 0, ᾱ = 1 (the data).
    let target = step.t - stride
    let previous = GridStep(index: step.index, count: step.count, t: step.t, next: target < 1e-9 * stride ? 0 : target)
    ddim.step(x, over: previous, model: model, noise: noise, workspace: &workspace)
  }
}
