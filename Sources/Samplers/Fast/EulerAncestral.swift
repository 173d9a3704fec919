import ScoreModels
import SDEKit

/// Euler ancestral sampling: k-diffusion's `sample_euler_ancestral` (an Euler step of the
/// probability-flow ODE in σ to σ_down, then fresh noise back up to σ′; for η = 1 the DDPM
/// ancestral step's marginals, Song et al. 2021 / Karras et al. 2022 §4).
///
/// Stochastic for η > 0 (default η = 1), Euler (first order) for η = 0; one evaluation per step.
/// On x̃ = x/a, from σ to σ′ with (σ_down, σ_up) = `ancestralLevels(σ, σ′, η)`:
///
/// ```
/// x̃′ = x̃ + (x̃ − m)/σ · (σ_down − σ) + S_noise σ_up z        (no noise on a step to σ′ = 0)
/// x′ = a′ x̃′
/// ```
///
/// z is the step's own noise (`SamplerNoise.standardNormals(over:)`).
public struct EulerAncestral: DiffusionSampler {
  public var eta: Double
  public var noiseScale: Double

  public init(settings: FastSamplerSettings = FastSamplerSettings()) {
    eta = settings.resolvedEta
    noiseScale = settings.resolvedNoiseScale
  }

  public func makeWorkspace(rows: Int, dimension: Int) -> DenoisedWorkspace {
    DenoisedWorkspace(rows: rows, dimension: dimension)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout DenoisedWorkspace
  ) {
    let level = model.level(step.t), next = model.level(step.next)
    let (down, up) = ancestralLevels(from: level.sigma, to: next.sigma, eta: eta)
    model.denoised(x.view, t: step.t, into: workspace.denoised)
    // a′(x̃ σ_down/σ + (1 − σ_down/σ) m), x̃ σ_down/σ = x σ_down/s.
    let xWeight = next.a * down / level.s, mWeight = next.a * (1 - down * level.a / level.s)
    ancestralUpdate(x, xWeight: xWeight, denoised: workspace.denoised.view, mWeight: mWeight, to: next, up: up,
                    noiseScale: noiseScale, step: step, noise: noise)
  }
}
